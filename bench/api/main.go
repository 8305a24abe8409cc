// Command api measures the JSON API reading the signal log: a client
// pages through -signals signals with GET /api/v1/signals?after=&limit=,
// through the real handlers (key authentication and the shared rate-limit
// count on every request, problem+json on errors) over loopback HTTP,
// and the time of each page is taken. It prints p50, p99 and max per page
// for each page size in -limits, and checks that every signal came once,
// in order, with the private chat ones left out.
//
// The signals are written straight into the tenant's table in bulk (the
// bench is about reading them); one in a hundred is a chat signal, which
// the API must never return.
//
// It uses DATABASE_URL when set (creating and dropping a database
// "fp_bench_api" beside the one named there), and otherwise starts a
// private PostgreSQL (-fast turns fsync off).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"fleetprompt/bench/benchdb"
	"fleetprompt/handlers"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/views"
)

func main() {
	var (
		signals = flag.Int("signals", 100000, "signals in the log")
		limits  = flag.String("limits", "100,1000", "page sizes to page through with")
		fast    = flag.Bool("fast", false, "private server without fsync")
	)
	flag.Parse()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dsn, stop, err := benchdb.Open(ctx, "fp_bench_api", benchdb.Options{Fast: *fast, Logger: log})
	if err != nil {
		fail(err)
	}
	defer stop()
	db, err := store.Open(ctx, dsn, 16)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	st, err := store.New(db, 4)
	if err != nil {
		fail(err)
	}
	u, org, err := st.Register(ctx, store.Registration{OrgName: "Bench API", OrgSlug: "benchapi", Name: "Bench", Email: "bench-api@example.com", Password: "password123"})
	if err != nil {
		fail(err)
	}
	tn := org.Tenant()
	_, key, err := st.CreateAPIKey(ctx, tn, u.ID, "bench", store.ScopeRead)
	if err != nil {
		fail(err)
	}
	visible := fill(ctx, st, tn, *signals)
	base := serve(st, log)
	fmt.Printf("api: %d signals (%d visible through the API), paging with GET /api/v1/signals\n", *signals, visible)
	var results []string
	for _, l := range strings.Split(*limits, ",") {
		limit, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			fail(err)
		}
		results = append(results, page(base, key, limit, visible))
	}
	fmt.Println()
	fmt.Println("(a shared 2-core machine: PostgreSQL, the server and the client share it)")
	for _, r := range results {
		fmt.Println(r)
	}
}

// fill writes n signals (one in a hundred a private chat one) and returns
// how many the API shows.
func fill(ctx context.Context, st *store.Store, tn store.Tenant, n int) int {
	start := time.Now()
	if _, err := st.DB.ExecContext(ctx, tn.SQL(`INSERT INTO {tenant}.signals (name, payload, source, subject_type, subject_id, actor_type, actor_id)
		SELECT CASE WHEN i % 100 = 0 THEN 'chat.message.completed' ELSE 'forum.post.created' END,
		       jsonb_build_object('post_id', gen_random_uuid(), 'n', i), 'bench',
		       CASE WHEN i % 100 = 0 THEN 'chat_message' ELSE 'forum_post' END, i::text, 'user', '1'
		FROM generate_series(1, $1) AS i`), n); err != nil {
		fail(err)
	}
	if _, err := st.DB.ExecContext(ctx, tn.SQL(`ANALYZE {tenant}.signals`)); err != nil {
		fail(err)
	}
	fmt.Printf("wrote %d signals in %s\n", n, time.Since(start).Round(time.Millisecond))
	var visible int // the bulk ones and the organization's own (its registration, the key)
	if err := st.DB.GetContext(ctx, &visible, tn.SQL(`SELECT count(*) FROM {tenant}.signals
		WHERE name NOT LIKE 'chat.%' AND coalesce(subject_type, '') NOT LIKE 'chat\_%'`)); err != nil {
		fail(err)
	}
	return visible
}

// serve runs the real handlers on a loopback port.
func serve(st *store.Store, log *slog.Logger) string {
	assets, err := static.Load()
	if err != nil {
		fail(err)
	}
	rend, err := views.New(assets, nil)
	if err != nil {
		fail(err)
	}
	h := handlers.New(handlers.Config{Store: st, Views: rend, Assets: assets, Logger: log,
		SessionSecret: []byte("bench-secret-bench-secret-bench-secret"), APIRateLimit: 1 << 30})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	go (&http.Server{Handler: h.Routes(), ReadHeaderTimeout: 5 * time.Second}).Serve(ln)
	return "http://" + ln.Addr().String()
}

// page reads the whole log with pages of limit and times every page.
func page(base, key string, limit, want int) string {
	client := &http.Client{Timeout: 10 * time.Second}
	var times []time.Duration
	var last int64
	seen := 0
	after := "0"
	start := time.Now()
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/signals?limit="+strconv.Itoa(limit)+"&after="+after, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			fail(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		times = append(times, time.Since(t0))
		if resp.StatusCode != http.StatusOK {
			fail(fmt.Errorf("page after %s: %d %s", after, resp.StatusCode, body))
		}
		var p struct {
			Data []struct {
				Seq  int64  `json:"seq"`
				Name string `json:"name"`
			} `json:"data"`
			Next *string `json:"next"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			fail(err)
		}
		for _, s := range p.Data {
			if s.Seq <= last || strings.HasPrefix(s.Name, "chat.") {
				fail(fmt.Errorf("signal %d (%s) after %d: out of order or private", s.Seq, s.Name, last))
			}
			last = s.Seq
			seen++
		}
		if p.Next == nil {
			break
		}
		after = *p.Next
	}
	total := time.Since(start)
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	status := "all of them, in order, no chat"
	if seen != want {
		status = fmt.Sprintf("MISSING %d", want-seen)
	}
	return fmt.Sprintf("api: limit %d: %d pages, %d signals (%s) in %s; per page p50 %s, p99 %s, max %s",
		limit, len(times), seen, status, total.Round(time.Millisecond), pct(times, 50), pct(times, 99), pct(times, 100))
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)*p/100, len(d)-1)].Round(10 * time.Microsecond)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "api bench:", err)
	os.Exit(1)
}
