package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// phaseResult is one phase as the generator saw it.
type phaseResult struct {
	Name               string
	Replies            int
	Expected, Received int64
	// Samples is how many deliveries the latencies come from.
	Samples       int64
	P50, P99, Max float64 // ms
	// Rounds are the phase cut in consecutive parts by reply: their
	// p50 and p99 show how steady the figures were.
	Rounds []roundResult
	// PostP50 and PostP99 are the replies' POST round trips (the commit
	// and the redirect), which the delivery latency includes.
	PostP50, PostP99 float64 // ms
	Reconnects       int64
	Duplicates       int64
	// Drain is how long after the last post its last delivery came.
	Drain time.Duration
}

type roundResult struct{ P50, P99 float64 }

type genResult struct {
	Connected      int
	ConnectSeconds float64
	Phases         []phaseResult
	// CPUSeconds is the generator's CPU time (user+system) while replies
	// were posted and received: what measuring cost, on a shared machine.
	CPUSeconds float64
}

// rounds is how many parts a phase's replies are cut into for the spread.
const rounds = 5

// gen is the load generator's state shared by every subscriber.
type gen struct {
	o      options
	cookie string
	path   string
	sent   []atomic.Int64 // unix nanos just before reply i was posted
	got    []atomic.Int64 // receipts of reply i
	// hist holds the phase's latencies, round[i] those of the replies of
	// round i (by reply index, from first).
	hist   atomic.Pointer[histogram]
	round  []atomic.Pointer[histogram]
	first  atomic.Int64
	per    atomic.Int64 // replies per round
	posts  atomic.Pointer[histogram]
	maxLat atomic.Int64
	in     *bufio.Scanner // the server's answers to our marks
}

func generate(o options) error {
	g := &gen{o: o, in: bufio.NewScanner(os.Stdin)}
	maxReplies := 2*o.Rate*int(o.Duration/time.Second) + 16
	g.sent = make([]atomic.Int64, maxReplies)
	g.got = make([]atomic.Int64, maxReplies)
	g.round = make([]atomic.Pointer[histogram], rounds)
	g.hist.Store(newHistogram())
	web, err := g.signIn()
	if err != nil {
		return err
	}
	tcpAddr, err := net.ResolveTCPAddr("tcp4", o.Addr)
	if err != nil {
		return err
	}
	// Eight epoll sets, so the server's writers seldom meet on one set's
	// lock when they mark sockets ready: on loopback the writer pays for
	// that, and remote clients never share one.
	rd, err := newReader(g, tcpAddr, 8)
	if err != nil {
		return err
	}
	res := genResult{}
	start := time.Now()
	res.Connected = g.connect(rd)
	res.ConnectSeconds = time.Since(start).Seconds()
	fmt.Printf("READY %d\n", res.Connected)
	if !g.in.Scan() {
		return fmt.Errorf("no GO from the server")
	}
	if p := os.Getenv("BENCH_GEN_CPU_PROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	cpu0 := cpuTime()
	next := 0
	for _, stalled := range []bool{false, true} {
		p, err := g.phase(web, rd, &next, int64(res.Connected), stalled)
		if err != nil {
			return err
		}
		res.Phases = append(res.Phases, p)
	}
	rd.closing.Store(true)
	res.CPUSeconds = (cpuTime() - cpu0).Seconds()
	b, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", b)
	return nil
}

// signIn logs in and finds the thread page's stream URL, the way a
// browser subscribes: its sse-connect, with the seq it was rendered at.
func (g *gen) signIn() (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	base := "http://" + g.o.Addr
	resp, err := web.PostForm(base+"/login", url.Values{"email": {g.o.Email}, "password": {g.o.Password}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		g.cookie = c.Name + "=" + c.Value
	}
	if g.cookie == "" {
		return nil, fmt.Errorf("login failed: %d", resp.StatusCode)
	}
	resp, err = web.Get(base + "/forums/t/" + g.o.Thread)
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`sse-connect="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("thread page has no sse-connect (%d)", resp.StatusCode)
	}
	g.path = strings.ReplaceAll(string(m[1]), "&amp;", "&")
	return web, nil
}

// request is a stream's GET, resuming after lastID when it is set.
func (g *gen) request(lastID int64) []byte {
	resume := ""
	if lastID > 0 {
		resume = "Last-Event-ID: " + strconv.FormatInt(lastID, 10) + "\r\n"
	}
	return []byte("GET " + g.path + " HTTP/1.1\r\nHost: " + g.o.Addr + "\r\nCookie: " + g.cookie +
		"\r\nAccept: text/event-stream\r\n" + resume + "\r\n")
}

// connect opens the subscribers' streams, 64 at a time.
func (g *gen) connect(rd *reader) int {
	var wg sync.WaitGroup
	var connected, failed atomic.Int64
	sem := make(chan struct{}, 64)
	for i := 0; i < g.o.Subscribers; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			err := rd.dial(0)
			<-sem
			if err != nil {
				if failed.Add(1) < 5 {
					fmt.Println("subscribe:", err)
				}
				return
			}
			connected.Add(1)
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		fmt.Printf("%d subscriptions failed\n", failed.Load())
	}
	return int(connected.Load())
}

// mark tells the server a phase starts or ends (it takes its counters
// then) and waits for its answer.
func (g *gen) mark(what, name string) error {
	fmt.Printf("%s %s\n", what, name)
	if !g.in.Scan() {
		return fmt.Errorf("no answer from the server to %s", what)
	}
	return nil
}

// phase posts replies for the configured time and waits (drain) for every
// subscriber to have them.
func (g *gen) phase(web *http.Client, rd *reader, next *int, subscribers int64, stalled bool) (phaseResult, error) {
	name := "healthy subscribers"
	if stalled {
		name = "with a stalled subscriber"
		conn, err := g.stalled()
		if err != nil {
			return phaseResult{}, err
		}
		defer conn.Close() // never read: the server must cut it, not wait for it
	}
	planned := g.o.Rate * int(g.o.Duration/time.Second)
	g.hist.Store(newHistogram())
	for i := range g.round {
		g.round[i].Store(newHistogram())
	}
	g.first.Store(int64(*next))
	g.per.Store(int64(max(1, (planned+rounds-1)/rounds)))
	g.posts.Store(newHistogram())
	g.maxLat.Store(0)
	rec0, dup0 := rd.reconnects.Load(), rd.duplicates.Load()
	if err := g.mark("PHASE", name); err != nil {
		return phaseResult{}, err
	}
	first := *next
	*next = g.post(web, first)
	expected := int64(*next-first) * subscribers
	drain := g.drain(first, *next, expected)
	if err := g.mark("END", name); err != nil {
		return phaseResult{}, err
	}
	h := g.hist.Load()
	q := h.quantiles(0.5, 0.99)
	pq := g.posts.Load().quantiles(0.5, 0.99)
	p := phaseResult{Name: name, Replies: *next - first, Expected: expected, Received: g.received(first, *next),
		Samples: h.count(), P50: q[0], P99: q[1], Max: float64(g.maxLat.Load()) / 1e6, PostP50: pq[0], PostP99: pq[1],
		Reconnects: rd.reconnects.Load() - rec0, Duplicates: rd.duplicates.Load() - dup0, Drain: drain}
	for i := range g.round {
		if r := g.round[i].Load(); r.count() > 0 {
			rq := r.quantiles(0.5, 0.99)
			p.Rounds = append(p.Rounds, roundResult{P50: rq[0], P99: rq[1]})
		}
	}
	return p, nil
}

// drain waits for every subscriber to have replies [from, to): a server
// that fell behind still delivers, so what it has not sent 5 s after the
// last post is not lost yet. It waits while deliveries keep arriving (at
// most 60 s), so "lost" counts only what stopped coming, and returns how
// long after the last post the last one came.
func (g *gen) drain(from, to int, expected int64) time.Duration {
	start := time.Now()
	last, lastAt := g.received(from, to), start
	for last < expected && time.Since(lastAt) < 5*time.Second && time.Since(start) < 60*time.Second {
		time.Sleep(20 * time.Millisecond)
		if n := g.received(from, to); n != last {
			last, lastAt = n, time.Now()
		}
	}
	return lastAt.Sub(start)
}

func (g *gen) received(from, to int) int64 {
	var n int64
	for i := from; i < to; i++ {
		n += g.got[i].Load()
	}
	return n
}

// post sends replies at the configured rate for the phase's duration,
// each from its own goroutine (at most 16 in flight), so a slow server
// gets the rate it was asked to take rather than a politely slower one.
func (g *gen) post(web *http.Client, next int) int {
	base := "http://" + g.o.Addr
	interval := time.Second / time.Duration(g.o.Rate)
	end := time.Now().Add(g.o.Duration)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	inflight := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for time.Now().Before(end) && next < len(g.sent) {
		<-tick.C
		inflight <- struct{}{}
		i := next
		next++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			g.sent[i].Store(time.Now().UnixNano())
			resp, err := web.PostForm(base+"/forums/t/"+g.o.Thread+"/replies", url.Values{"body": {fmt.Sprintf("benchmsg %d", i)}})
			if err != nil {
				fmt.Println("post:", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			g.posts.Load().add(time.Duration(time.Now().UnixNano() - g.sent[i].Load()))
			if resp.StatusCode != http.StatusSeeOther {
				fmt.Println("post: status", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	return next
}

// stalled opens a stream that is never read, with a tiny receive buffer
// so the server's writes to it block soon. It starts from now (no
// cursor): what stalls it is what arrives after, not a replay.
func (g *gen) stalled() (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(network, address string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", g.o.Addr)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(g.path)
	q := u.Query()
	q.Del("last_event_id")
	u.RawQuery = q.Encode()
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + g.o.Addr + "\r\nCookie: " + g.cookie + "\r\nAccept: text/event-stream\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// record counts reply i received after lat.
func (g *gen) record(i int, lat time.Duration) {
	g.got[i].Add(1)
	g.hist.Load().add(lat)
	if r := (int64(i) - g.first.Load()) / g.per.Load(); r >= 0 && r < int64(len(g.round)) {
		g.round[r].Load().add(lat)
	}
	for {
		cur := g.maxLat.Load()
		if int64(lat) <= cur || g.maxLat.CompareAndSwap(cur, int64(lat)) {
			break
		}
	}
}
