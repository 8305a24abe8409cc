// Command webhooks measures webhook delivery end to end, through the real
// parts: forum replies written by the reply statement (their
// forum.post.created signals committed with them), the webhook signal
// subscriber recording deliveries, the delivery runner (64 workers, as in
// the app) signing and POSTing them to receivers on loopback, attempts
// recorded in PostgreSQL.
//
// Two runs:
//
//  1. fanout: -endpoints endpoints subscribed to forum.*, -rate replies a
//     second for -duration: latency from the reply's commit to the
//     delivery's arrival (samples, p50, p90, p99, max), deliveries per
//     second, the processor time per delivery (this process, which holds
//     the app and the receivers, and PostgreSQL), and how many were lost
//     or received twice. -runs repeats it, for the spread between runs.
//  2. outage: -outage-endpoints endpoints whose receiver answers 503 for
//     -down, while replies keep coming for half of it; then it is back.
//     Every delivery must arrive, and no receiver may get a delivery more
//     often than the attempts recorded for it.
//
// The receivers check every request's Standard Webhooks signature with the
// endpoint's secret, as a receiver in life does, and refuse (401, counted)
// what does not verify.
//
// It uses DATABASE_URL when set (creating and dropping a database
// "fp_bench_webhooks" beside the one named there), and otherwise starts a
// private PostgreSQL (-fast turns fsync off).
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fleetprompt/bench/benchdb"
	"fleetprompt/jobs"
	"fleetprompt/jobs/signal"
	"fleetprompt/jobs/webhook"
	"fleetprompt/store"
)

func main() {
	var (
		endpoints  = flag.Int("endpoints", 100, "endpoints subscribed to forum.* in the fanout run")
		rate       = flag.Int("rate", 100, "replies per second")
		duration   = flag.Duration("duration", 20*time.Second, "how long replies are written in the fanout run")
		outageEps  = flag.Int("outage-endpoints", 10, "endpoints in the outage run")
		down       = flag.Duration("down", 60*time.Second, "how long the receiver is down in the outage run")
		fast       = flag.Bool("fast", false, "private server without fsync")
		workersF   = flag.Int("workers", 64, "delivery workers (the app runs 64)")
		cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the bench process here")
		memProfile = flag.String("memprofile", "", "write an allocation profile of the bench process here, at the end")
		skipFanout = flag.Bool("skip-fanout", false, "only the outage run")
		skipOutage = flag.Bool("skip-outage", false, "only the fanout run")
		runs       = flag.Int("runs", 1, "fanout runs, each with a tenant of its own (the spread between them is printed)")
	)
	flag.Parse()
	workers = *workersF
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer writeAllocs(*memProfile)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dsn, stop, err := benchdb.Open(ctx, "fp_bench_webhooks", benchdb.Options{Fast: *fast, Logger: log})
	if err != nil {
		fail(err)
	}
	defer stop()
	db, err := store.Open(ctx, dsn, 90)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	st, err := store.New(db, 4)
	if err != nil {
		fail(err)
	}
	if err := db.GetContext(ctx, &dataDir, `SHOW data_directory`); err != nil {
		fail(err)
	}
	rcv := newReceiver(max(*endpoints, *outageEps))
	defer rcv.srv.Close()
	var results []string
	if !*skipFanout {
		var p99s, rates []float64
		for i := range max(*runs, 1) {
			line, p99, perSec := fanout(ctx, st, dsn, log, rcv, "hooksfan"+strconv.Itoa(i), *endpoints, *rate, *duration)
			results, p99s, rates = append(results, line), append(p99s, p99.Seconds()*1000), append(rates, perSec)
		}
		if len(p99s) > 1 {
			results = append(results, fmt.Sprintf("fanout over %d runs: p99 %s ms, deliveries/s %s", len(p99s), spread(p99s), spread(rates)))
		}
	}
	if !*skipOutage {
		results = append(results, outage(ctx, st, dsn, log, rcv, *outageEps, *rate/10, *down))
	}
	fmt.Println()
	fmt.Println("(a shared 2-core machine: PostgreSQL, the app and the receivers share it)")
	for _, r := range results {
		fmt.Println(r)
	}
}

func writeAllocs(path string) {
	f, err := os.Create(path)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	pprof.Lookup("allocs").WriteTo(f, 0)
}

// workers is -workers.
var workers int

// dataDir is the database server's data directory (its CPU is read from
// /proc, when it runs on this machine).
var dataDir string

// rig is one tenant with a thread and the webhook engine running for it.
type rig struct {
	st       *store.Store
	tn       store.Tenant
	user     int64
	thread   string
	stopFunc func()
}

func newRig(ctx context.Context, st *store.Store, dsn string, log *slog.Logger, slug string) *rig {
	u, org, err := st.Register(ctx, store.Registration{OrgName: "Bench " + slug, OrgSlug: slug, Name: "Bench", Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		fail(err)
	}
	r := &rig{st: st, tn: org.Tenant(), user: u.ID}
	cat, err := st.CreateForumCategory(ctx, r.tn, u.ID, store.NewForumCategory{Name: "General", Slug: "general"})
	if err != nil {
		fail(err)
	}
	th, _, err := st.CreateForumThread(ctx, r.tn, u.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Busy thread", Body: "First."})
	if err != nil {
		fail(err)
	}
	r.thread = th.ID
	engine := webhook.New(webhook.Config{Store: st, AllowPrivate: true, Logger: log})
	bus := signal.New(signal.Config{Store: st, DSN: dsn, Tenants: []string{r.tn.Schema()}, Logger: log})
	bus.Subscribe(engine.Subscriber())
	runner := jobs.New(st.DB, jobs.Config{DSN: dsn, MaxWorkers: workers, Tenants: []string{r.tn.Schema()}, Logger: log})
	engine.RegisterJobs(runner)
	if err := bus.Start(ctx); err != nil {
		fail(err)
	}
	if err := runner.Start(ctx); err != nil {
		fail(err)
	}
	r.stopFunc = func() {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		bus.Stop(c)
		runner.Stop(c)
		// Its kept connections (and their goroutines, on both sides)
		// would otherwise outlive the run by the idle timeout.
		engine.Close()
	}
	return r
}

func (r *rig) endpoints(ctx context.Context, rcv *receiver, run string, n int) {
	for i := range n {
		ep, err := r.st.CreateWebhookEndpoint(ctx, r.tn, r.user, store.NewWebhookEndpoint{
			URL: rcv.url(i) + "/" + run + "/" + strconv.Itoa(i), Events: []string{"forum.*"}})
		if err != nil {
			fail(err)
		}
		rcv.trust(run, strconv.Itoa(i), ep.Secret)
	}
}

// reply writes one reply (its statement commits it with its signal) and
// returns the post's id and when the commit returned.
func (r *rig) reply(ctx context.Context, n int) (string, time.Time) {
	_, p, err := r.st.CreateForumReply(ctx, r.tn, r.user, r.thread, "Reply "+strconv.Itoa(n))
	if err != nil {
		fail(err)
	}
	return p.ID, time.Now()
}

// writeReplies writes rate replies a second for d; it returns each
// reply's commit time by post id.
func (r *rig) writeReplies(ctx context.Context, rate int, d time.Duration) map[string]time.Time {
	committed := map[string]time.Time{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for n := 0; time.Now().Before(end); n++ {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, at := r.reply(ctx, n)
			mu.Lock()
			committed[id] = at
			mu.Unlock()
		}()
	}
	wg.Wait()
	return committed
}

// fanout is one fanout run, in a tenant of its own (slug); it returns its
// report, its p99 and its deliveries per second.
func fanout(ctx context.Context, st *store.Store, dsn string, log *slog.Logger, rcv *receiver, slug string, eps, rate int, d time.Duration) (string, time.Duration, float64) {
	r := newRig(ctx, st, dsn, log, slug)
	defer r.stopFunc()
	run := "fan-" + slug
	rcv.open(run, int(float64(eps*rate)*d.Seconds()*1.05))
	defer rcv.close(run)
	r.endpoints(ctx, rcv, run, eps)
	fmt.Printf("fanout: %d endpoints on forum.*, %d replies/s for %s\n", eps, rate, d)
	start := time.Now()
	app0, db0, gc0 := benchdb.ProcessCPU(), benchdb.ServerCPU(dataDir), gcCPU()
	committed := r.writeReplies(ctx, rate, d)
	want := len(committed) * eps
	deadline := time.Now().Add(2 * time.Minute)
	for rcv.unique(run) < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	app1, db1, gc1 := benchdb.ProcessCPU(), benchdb.ServerCPU(dataDir), gcCPU()
	goroutines := runtime.NumGoroutine()
	c := rcv.counts(run)
	elapsed := c.last.Sub(start)
	lat := rcv.latencies(run, committed)
	got := c.uniq
	perSec := float64(got) / elapsed.Seconds()
	perDelivery := func(c time.Duration) string {
		return fmt.Sprintf("%.0fµs", float64(c.Microseconds())/float64(max(got, 1)))
	}
	return fmt.Sprintf("fanout: %d deliveries of %d replies to %d endpoints in %s → %.0f deliveries/s; lost %d, duplicates %d, refused signatures %d\n"+
		"        commit → received over %d samples: min %s, p50 %s, p90 %s, p99 %s, max %s\n"+
		"        cpu/delivery: bench process (app + receivers + reply writers) %s (GC %.0f%% of it; %d goroutines at the end) + postgres %s\n"+
		"        where the time went (p99 of each stage): %s",
		got, len(committed), eps, elapsed.Round(time.Millisecond), perSec, want-got, c.dups, c.bad,
		len(lat), pct(lat, 0), pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100),
		perDelivery(app1-app0), 100*(gc1-gc0).Seconds()/max((app1-app0).Seconds(), 1e-9), goroutines, perDelivery(db1-db0), stages(ctx, r)), pct(lat, 99), perSec
}

// gcCPU is the processor time the garbage collector has used so far (its
// workers and the assists it asked of allocating goroutines).
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

// spread is the minimum, median and maximum of xs.
func spread(xs []float64) string {
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf("min %.0f, median %.0f, max %.0f", s[0], s[len(s)/2], s[len(s)-1])
}

func outage(ctx context.Context, st *store.Store, dsn string, log *slog.Logger, rcv *receiver, eps, rate int, down time.Duration) string {
	r := newRig(ctx, st, dsn, log, "hooksdown")
	defer r.stopFunc()
	rcv.open("down", 0)
	defer rcv.close("down")
	r.endpoints(ctx, rcv, "down", eps)
	rate = max(rate, 1)
	fmt.Printf("outage: %d endpoints, receiver down for %s, %d replies/s for the first %s\n", eps, down, rate, down/2)
	rcv.setDown(true)
	downAt := time.Now()
	committed := r.writeReplies(ctx, rate, down/2)
	time.Sleep(time.Until(downAt.Add(down)))
	rcv.setDown(false)
	backAt := time.Now()
	want := len(committed) * eps
	deadline := time.Now().Add(5 * time.Minute)
	for rcv.unique("down") < want && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	c := rcv.counts("down")
	recovered := c.last.Sub(backAt)
	// The attempts recorded, against the requests the receiver saw.
	var recorded, maxAttempts int
	if err := st.DB.QueryRowContext(ctx, r.tn.SQL(`SELECT coalesce(sum(attempts), 0), coalesce(max(attempts), 0) FROM {tenant}.webhook_deliveries`)).
		Scan(&recorded, &maxAttempts); err != nil {
		fail(err)
	}
	extra := c.reqs - recorded
	return fmt.Sprintf("outage: %d of %d deliveries arrived (lost %d), all within %s of the receiver's return; %d requests seen for %d attempts recorded (%d beyond their retries), at most %d attempts for one delivery, %d received twice",
		c.uniq, want, want-c.uniq, recovered.Round(time.Millisecond), c.reqs, recorded, max(extra, 0), maxAttempts, c.dups)
}

// stages splits the latency on the server's clock: signal → its first
// attempts' job enqueued (the subscriber), job enqueued → attempt started
// (the job queue), attempt started → recorded (the POST and the wait for
// the record's transaction, which writes the delivery's row).
func stages(ctx context.Context, r *rig) string {
	var sub, queue, record float64
	err := r.st.DB.QueryRowContext(ctx, r.tn.SQL(`
		WITH d AS (
			SELECT d.created_at AS recorded, (d.log->0->>'at')::timestamptz AS started, s.occurred_at, j.created_at AS queued
			  FROM {tenant}.webhook_deliveries d JOIN {tenant}.signals s ON s.seq = d.signal_seq
			  JOIN public.jobs j ON j.kind = $1 AND j.tenant_schema = $2 AND (j.args->>'seq')::bigint = d.signal_seq AND j.args->>'attempt' = '1'
		)
		SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM queued - occurred_at)),
		       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started - queued)),
		       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM recorded - started))
		  FROM d`), store.WebhookDeliverJob, r.tn.Schema()).Scan(&sub, &queue, &record)
	if err != nil {
		return err.Error()
	}
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)).Round(time.Millisecond) }
	return fmt.Sprintf("signal → job enqueued %s, enqueued → attempt started %s, attempt started → recorded %s",
		sec(sub), sec(queue), sec(record))
}

// pct is the p-th percentile of sorted d.
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := min(len(d)*p/100, len(d)-1)
	return d[i].Round(100 * time.Microsecond)
}

// receiver is every bench endpoint: /<run>/<endpoint> on the port of the
// endpoint's number (each endpoint its own receiver, as in life), counting
// requests and successful arrivals per (endpoint, signal). Each run's
// counts are kept apart and dropped once the run has been reported: kept
// for the process, the arrivals of earlier runs (200,000 keys a run) were
// live heap every later run's collections walked.
//
// The receivers are the bench's, not the product: they check what a
// receiver in life checks (the signature, the timestamp, a JSON body of
// the right type) and no more, as cheaply as such a receiver may (the
// secret decoded once, the body read into a kept buffer, one JSON decode).
type receiver struct {
	srv  *http.Server
	urls []string // one listener each
	down atomic.Bool

	mu   sync.Mutex
	runs map[string]*runLog
}

// runLog is what one run's receivers saw.
type runLog struct {
	keys     map[string][]byte   // endpoint → its signing key (the secret decoded)
	arrivals map[arrival]arrived // successful deliveries
	reqs     int                 // requests, failed ones included
	bad      int                 // requests refused for their signature
	uniq     int                 // distinct (endpoint, post) arrivals
	dups     int                 // (endpoint, post) arrivals that came more than once
	last     time.Time
}

type arrival struct{ endpoint, post string }

type arrived struct {
	first time.Time
	n     int
}

func newReceiver(listeners int) *receiver {
	r := &receiver{runs: map[string]*runLog{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	for range listeners {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		r.urls = append(r.urls, "http://"+ln.Addr().String())
		go r.srv.Serve(ln)
	}
	return r
}

func (r *receiver) url(i int) string { return r.urls[i%len(r.urls)] }

// open starts a run's counts, sized for about expect arrivals.
func (r *receiver) open(run string, expect int) {
	r.mu.Lock()
	r.runs[run] = &runLog{keys: map[string][]byte{}, arrivals: make(map[arrival]arrived, expect)}
	r.mu.Unlock()
}

// close drops a run's counts.
func (r *receiver) close(run string) {
	r.mu.Lock()
	delete(r.runs, run)
	r.mu.Unlock()
}

// trust gives the receiver an endpoint's secret.
func (r *receiver) trust(run, endpoint, secret string) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		fail(err)
	}
	r.mu.Lock()
	r.runs[run].keys[endpoint] = key
	r.mu.Unlock()
}

// verified is a receiver's Standard Webhooks check, written here from the
// specification (not the engine's Sign): one of the "v1," signatures is
// the base64 HMAC-SHA256 of "id.timestamp.body" keyed with the secret's
// decoded bytes, and the timestamp is within five minutes. (The server
// has put the headers' names in canonical form.)
func verified(key []byte, h http.Header, body []byte) bool {
	id, ts := first(h["Webhook-Id"]), first(h["Webhook-Timestamp"])
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" || key == nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, key)
	io.WriteString(m, id)
	io.WriteString(m, ".")
	io.WriteString(m, ts)
	io.WriteString(m, ".")
	m.Write(body)
	var sum [sha256.Size]byte
	want := m.Sum(sum[:0])
	for _, s := range strings.Fields(first(h["Webhook-Signature"])) {
		b64, ok := strings.CutPrefix(s, "v1,")
		if !ok || base64.StdEncoding.DecodedLen(len(b64)) > sha256.Size+2 {
			continue
		}
		var got [sha256.Size + 2]byte
		n, err := base64.StdEncoding.Decode(got[:], []byte(b64))
		if err == nil && n == sha256.Size && hmac.Equal(got[:n], want) {
			return true
		}
	}
	return false
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func (r *receiver) setDown(v bool) { r.down.Store(v) }

// bodies are the receivers' request buffers.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// message is what a receiver reads of a delivery: its type and the post.
type message struct {
	Type string `json:"type"`
	Data struct {
		Payload struct {
			PostID string `json:"post_id"`
		} `json:"payload"`
	} `json:"data"`
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf)
	buf.Reset()
	buf.ReadFrom(io.LimitReader(req.Body, 1<<20))
	body := buf.Bytes()
	run, ep, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	r.mu.Lock()
	rl := r.runs[run]
	var key []byte
	if rl != nil {
		rl.reqs++
		key = rl.keys[ep]
	}
	r.mu.Unlock()
	if rl == nil {
		http.Error(w, "no such run", http.StatusNotFound)
		return
	}
	if !verified(key, req.Header, body) {
		r.mu.Lock()
		rl.bad++
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if r.down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if m.Type == "forum.post.created" {
		k := arrival{ep, m.Data.Payload.PostID}
		r.mu.Lock()
		a := rl.arrivals[k]
		a.n++
		switch a.n {
		case 1:
			a.first = now
			rl.uniq++
		case 2:
			rl.dups++
		}
		rl.arrivals[k] = a
		rl.last = now
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

// counts is a copy of run's counters (its arrivals left out).
func (r *receiver) counts(run string) runLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	rl := *r.runs[run]
	rl.keys, rl.arrivals = nil, nil
	return rl
}

// unique is how many distinct deliveries arrived in run: counted as they
// arrive, as the wait for the last one asks every 50 ms.
func (r *receiver) unique(run string) int { return r.counts(run).uniq }

// latencies is, for each delivery of a post in committed, the time from
// the post's commit to the delivery's first arrival, sorted.
func (r *receiver) latencies(run string, committed map[string]time.Time) []time.Duration {
	r.mu.Lock()
	lat := make([]time.Duration, 0, len(r.runs[run].arrivals))
	for k, a := range r.runs[run].arrivals {
		if c, ok := committed[k.post]; ok {
			lat = append(lat, a.first.Sub(c))
		}
	}
	r.mu.Unlock()
	slices.Sort(lat)
	return lat
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "webhooks bench:", err)
	os.Exit(1)
}
