// Command http measures the thread page and replies over HTTP: GET
// /forums/t/:id of a thread with 50 posts at 64 connections, against a
// bare Gin handler returning a fixed page of the same size, measured in
// the same run; then replies posted by 64 connections (each with its
// signal, fanout job and notification). It prints its figures last.
// Loopback only; bounded in time.
//
//	go run ./bench/http -duration 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	_ "net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/bench/benchsite"
)

func main() {
	conns := flag.Int("connections", 64, "concurrent connections")
	dur := flag.Duration("duration", 10*time.Second, "time per measurement")
	flagDur = dur
	fast := flag.Bool("fast", false, "fsync off in the private PostgreSQL")
	flag.StringVar(&opts.pprof, "pprof", "", "serve net/http/pprof on this address (block and mutex profiles on)")
	flag.StringVar(&opts.only, "only", "", "measure only \"page\" or \"replies\" (the bare handler runs with the page)")
	flag.IntVar(&opts.rounds, "rounds", 4, "alternating rounds of the bare handler and the thread page")
	flag.BoolVar(&opts.hold, "hold", false, "print the database URL and thread, then wait for Enter before measuring")
	flag.Parse()
	opts.rounds = max(opts.rounds, 1)
	if opts.pprof != "" {
		runtime.SetBlockProfileRate(int(time.Microsecond))
		runtime.SetMutexProfileFraction(5)
		go http.ListenAndServe(opts.pprof, nil)
	}
	if err := run(*conns, *dur, *fast); err != nil {
		fmt.Fprintln(os.Stderr, "bench/http:", err)
		os.Exit(1)
	}
}

var flagDur *time.Duration

// opts are the investigation switches; the figures need none of them.
var opts struct {
	pprof, only string
	hold        bool
	rounds      int
}

type result struct {
	n        int64
	errors   int64
	rps      float64
	p50, p99 time.Duration
	// CPU per request: this process (server and load generator) and the
	// private PostgreSQL, whatever else the machine runs meanwhile.
	cpuSelf, cpuDB time.Duration

	lats                     []time.Duration
	elapsed                  time.Duration
	cpuSelfTotal, cpuDBTotal time.Duration
}

// measured runs load and records the CPU it took.
func measured(site *benchsite.Site, clients []*http.Client, d time.Duration, do func(c *http.Client) error) result {
	s0, db0 := site.CPU()
	r := load(clients, d, do)
	s1, db1 := site.CPU()
	r.cpuSelfTotal, r.cpuDBTotal = s1-s0, db1-db0
	return r
}

// load runs one worker per client calling do until d has passed.
func load(clients []*http.Client, d time.Duration, do func(c *http.Client) error) result {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lats []time.Duration
	var errs atomic.Int64
	start := time.Now()
	end := start.Add(d)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(end) {
				t0 := time.Now()
				if err := do(c); err != nil {
					errs.Add(1)
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return result{lats: lats, errors: errs.Load(), elapsed: time.Since(start)}
}

// merge adds round r into x.
func (x *result) merge(r result) {
	x.lats = append(x.lats, r.lats...)
	x.errors += r.errors
	x.elapsed += r.elapsed
	x.cpuSelfTotal += r.cpuSelfTotal
	x.cpuDBTotal += r.cpuDBTotal
}

// finish computes the figures of the merged rounds.
func (x *result) finish() {
	sort.Slice(x.lats, func(i, j int) bool { return x.lats[i] < x.lats[j] })
	x.n = int64(len(x.lats))
	if x.n == 0 {
		return
	}
	x.rps = float64(x.n) / x.elapsed.Seconds()
	x.p50, x.p99 = x.lats[len(x.lats)/2], x.lats[len(x.lats)*99/100]
	x.cpuSelf, x.cpuDB = x.cpuSelfTotal/time.Duration(x.n), x.cpuDBTotal/time.Duration(x.n)
}

func transport() *http.Transport {
	return &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}
}

func run(conns int, d time.Duration, fast bool) error {
	ctx := context.Background()
	site, err := benchsite.Start(ctx, benchsite.Options{Fast: fast, Posts: 50, MaxConns: 80})
	if err != nil {
		return err
	}
	defer site.Close()
	base := site.URL

	// Each worker is a signed-in browser with its own connection.
	login := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: transport(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.PostForm(base+"/login", url.Values{"email": {site.Email}, "password": {site.Password}})
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return c
	}
	pageURL := base + "/forums/t/" + site.ThreadID
	c := login()
	resp, err := c.Get(pageURL)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("thread page: %d", resp.StatusCode)
	}

	// The bare Gin handler: the same bytes, no database, no templates.
	gin.SetMode(gin.ReleaseMode)
	bare := gin.New()
	bare.GET("/page", func(c *gin.Context) { c.Data(http.StatusOK, "text/html; charset=utf-8", page) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bareSrv := &http.Server{Handler: bare}
	go bareSrv.Serve(ln)
	defer bareSrv.Close()
	bareURL := "http://" + ln.Addr().String() + "/page"

	get := func(u string) func(c *http.Client) error {
		return func(c *http.Client) error {
			resp, err := c.Get(u)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}
	}
	if opts.hold {
		fmt.Fprintf(os.Stderr, "database %s\nthread %s in %s\nsend SIGUSR1 to %d to go on\n", site.DSN, site.ThreadID, site.Tenant.Schema(), os.Getpid())
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR1)
		<-ch
	}
	var b, t, r result
	clientsOf := func(newClient func() *http.Client) []*http.Client {
		cs := make([]*http.Client, conns)
		for i := range cs {
			cs[i] = newClient()
		}
		return cs
	}
	if opts.only != "replies" {
		// The two are measured in alternating rounds, so whatever else
		// the machine runs weighs on both alike.
		bareClients := clientsOf(func() *http.Client { return &http.Client{Transport: transport()} })
		pageClients := clientsOf(login)
		if p := os.Getenv("BENCH_CPU_PROFILE"); p != "" {
			if f, err := os.Create(p); err == nil {
				pprof.StartCPUProfile(f) // both sides: compare them in the profile
			}
		}
		for i := 0; i < opts.rounds; i++ {
			fmt.Fprintf(os.Stderr, "round %d/%d: the bare handler, then the thread page…\n", i+1, opts.rounds)
			b.merge(measured(site, bareClients, d/time.Duration(opts.rounds), get(bareURL)))
			t.merge(measured(site, pageClients, d/time.Duration(opts.rounds), get(pageURL)))
		}
		pprof.StopCPUProfile()
		b.finish()
		t.finish()
	}
	if opts.only == "page" {
		d = 0
	}
	fmt.Fprintln(os.Stderr, "posting replies…")
	var seq atomic.Int64
	r = measured(site, clientsOf(login), d, func(c *http.Client) error {
		resp, err := c.PostForm(pageURL+"/replies", url.Values{"body": {fmt.Sprintf("bench reply %d", seq.Add(1))}})
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	r.finish()

	durability := "durable (fsync on)"
	if fast {
		durability = "fsync off"
	}
	measuredFor := d
	if measuredFor == 0 {
		measuredFor = *flagDur
	}
	fmt.Printf("\nbench/http: %d connections, %v per measurement (bare and page in %d alternating rounds), page %d bytes (50 posts), PostgreSQL %s\n",
		conns, measuredFor, opts.rounds, len(page), durability)
	fmt.Printf("CPU per request: this process (server and load generator) + PostgreSQL\n")
	line := func(name, unit string, x result) {
		fmt.Printf("%-24s%8.0f %-10s p50 %6.2f ms  p99 %6.2f ms  errors %d  CPU %5.0f + %4.0f µs\n",
			name, x.rps, unit, ms(x.p50), ms(x.p99), x.errors, us(x.cpuSelf), us(x.cpuDB))
	}
	if opts.only != "replies" {
		line("bare gin, fixed page:", "req/s", b)
		line("GET /forums/t/:id:", "req/s", t)
		fmt.Printf("ratio thread page / bare: %.3f (target ≥ 0.25); p99 %.0f ms (target ≤ 50)\n", t.rps/b.rps, ms(t.p99))
	}
	if opts.only != "page" {
		line("POST replies:", "replies/s", r)
		fmt.Printf("replies: %.0f/s (target ≥ 1,000)\n", r.rps)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
