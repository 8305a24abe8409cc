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
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type phaseResult struct {
	Name               string
	Replies            int
	Expected, Received int64
	P50, P99, Max      float64 // ms
	// PostP50 and PostP99 are the replies' POST round trips (the commit
	// and the redirect), which the delivery latency includes.
	PostP50, PostP99 float64 // ms
}

type genResult struct {
	Connected      int
	ConnectSeconds float64
	Phases         []phaseResult
	// CPUSeconds is the generator's CPU time (user+system) while replies
	// were posted and received: what measuring cost, on a shared machine.
	CPUSeconds float64
}

// histogram counts latencies in 50 µs buckets up to 30 s.
type histogram struct{ b []atomic.Int64 }

const bucket = 50 * time.Microsecond

func newHistogram() *histogram {
	return &histogram{b: make([]atomic.Int64, int(30*time.Second/bucket)+1)}
}

func (h *histogram) add(d time.Duration) {
	i := int(d / bucket)
	if i < 0 {
		i = 0
	}
	if i >= len(h.b) {
		i = len(h.b) - 1
	}
	h.b[i].Add(1)
}

func (h *histogram) quantiles(qs ...float64) []float64 {
	var total int64
	for i := range h.b {
		total += h.b[i].Load()
	}
	out := make([]float64, len(qs))
	if total == 0 {
		return out
	}
	sort.Float64s(qs)
	var seen int64
	j := 0
	for i := range h.b {
		seen += h.b[i].Load()
		for j < len(qs) && float64(seen) >= qs[j]*float64(total) {
			out[j] = float64(time.Duration(i+1)*bucket) / float64(time.Millisecond)
			j++
		}
	}
	return out
}

// gen is the load generator's state shared by every subscriber.
type gen struct {
	o       options
	cookie  string
	path    string
	sent    []atomic.Int64 // unix nanos just before reply i was posted
	got     []atomic.Int64 // receipts of reply i
	hist    atomic.Pointer[histogram]
	posts   atomic.Pointer[histogram]
	maxLat  atomic.Int64
	started time.Time
}

var marker = []byte("benchmsg ")

func generate(o options) error {
	g := &gen{o: o}
	maxReplies := 2*o.Rate*int(o.Duration/time.Second) + 16
	g.sent = make([]atomic.Int64, maxReplies)
	g.got = make([]atomic.Int64, maxReplies)
	g.hist.Store(newHistogram())

	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	base := "http://" + o.Addr
	resp, err := web.PostForm(base+"/login", url.Values{"email": {o.Email}, "password": {o.Password}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		g.cookie = c.Name + "=" + c.Value
	}
	if g.cookie == "" {
		return fmt.Errorf("login failed: %d", resp.StatusCode)
	}
	// Subscribe the way the thread page does: its sse-connect URL, with the
	// seq it was rendered at.
	resp, err = web.Get(base + "/forums/t/" + o.Thread)
	if err != nil {
		return err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`sse-connect="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return fmt.Errorf("thread page has no sse-connect (%d)", resp.StatusCode)
	}
	g.path = strings.ReplaceAll(string(m[1]), "&amp;", "&")

	// Eight epoll sets, so the server's writers (one per processor) seldom
	// meet on one set's lock when they mark sockets ready: on loopback
	// the writer pays for that, and remote clients never share one.
	rd, err := newReader(g, 8)
	if err != nil {
		return err
	}
	tcpAddr, err := net.ResolveTCPAddr("tcp4", o.Addr)
	if err != nil {
		return err
	}
	request := []byte("GET " + g.path + " HTTP/1.1\r\nHost: " + o.Addr + "\r\nCookie: " + g.cookie +
		"\r\nAccept: text/event-stream\r\n\r\n")
	start := time.Now()
	var wg sync.WaitGroup
	var connected, failed atomic.Int64
	sem := make(chan struct{}, 64)
	for i := 0; i < o.Subscribers; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			err := rd.dial(tcpAddr, request)
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
	res := genResult{Connected: int(connected.Load()), ConnectSeconds: time.Since(start).Seconds()}
	if failed.Load() > 0 {
		fmt.Printf("%d subscriptions failed\n", failed.Load())
	}
	fmt.Printf("READY %d\n", res.Connected)
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
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
		name := "healthy subscribers"
		if stalled {
			name = "with a stalled subscriber"
			conn, err := g.stalled()
			if err != nil {
				return err
			}
			defer conn.Close() // never read: the server must drop it, not wait for it
		}
		g.hist.Store(newHistogram())
		g.posts.Store(newHistogram())
		g.maxLat.Store(0)
		first := next
		next = g.post(web, base, next)
		// Wait for the stragglers, at most 5 s after the last post.
		deadline := time.Now().Add(5 * time.Second)
		expected := int64(next-first) * connected.Load()
		for time.Now().Before(deadline) && g.received(first, next) < expected {
			time.Sleep(20 * time.Millisecond)
		}
		q := g.hist.Load().quantiles(0.5, 0.99)
		pq := g.posts.Load().quantiles(0.5, 0.99)
		res.Phases = append(res.Phases, phaseResult{Name: name, Replies: next - first, Expected: expected,
			Received: g.received(first, next), P50: q[0], P99: q[1], Max: float64(g.maxLat.Load()) / 1e6, PostP50: pq[0], PostP99: pq[1]})
	}
	res.CPUSeconds = (cpuTime() - cpu0).Seconds()
	b, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", b)
	return nil
}

func (g *gen) received(from, to int) int64 {
	var n int64
	for i := from; i < to; i++ {
		n += g.got[i].Load()
	}
	return n
}

// post sends replies at the configured rate for the phase's duration.
func (g *gen) post(web *http.Client, base string, next int) int {
	interval := time.Second / time.Duration(g.o.Rate)
	end := time.Now().Add(g.o.Duration)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for time.Now().Before(end) && next < len(g.sent) {
		<-tick.C
		i := next
		next++
		g.sent[i].Store(time.Now().UnixNano())
		resp, err := web.PostForm(base+"/forums/t/"+g.o.Thread+"/replies", url.Values{"body": {fmt.Sprintf("benchmsg %d", i)}})
		if err != nil {
			fmt.Println("post:", err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		g.posts.Load().add(time.Duration(time.Now().UnixNano() - g.sent[i].Load()))
		if resp.StatusCode != http.StatusSeeOther {
			fmt.Println("post: status", resp.StatusCode)
		}
	}
	return next
}

// stalled opens a stream that is never read, with a tiny receive buffer
// so the server's writes to it block soon.
func (g *gen) stalled() (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(network, address string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", g.o.Addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\nAccept: text/event-stream\r\n\r\n", g.path, g.o.Addr, g.cookie)
	return conn, nil
}

// record counts reply i received after lat.
func (g *gen) record(i int, lat time.Duration) {
	g.got[i].Add(1)
	g.hist.Load().add(lat)
	for {
		cur := g.maxLat.Load()
		if int64(lat) <= cur || g.maxLat.CompareAndSwap(cur, int64(lat)) {
			break
		}
	}
}
