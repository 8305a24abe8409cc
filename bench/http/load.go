package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load generator runs in a child process (this program with
// -loadgen): the server's CPU per request is then the server's alone,
// not the clients'. The parent writes a plan on its stdin and reads the
// outcome from its stdout.

// plan is one measurement: each connection sends requests back to back
// for Duration.
type plan struct {
	Conns    []conn
	Duration time.Duration
	// ReplyShare of the requests are replies (POST Reply, 303), the rest
	// page views (GET Get, 200); 1 for replies only.
	ReplyShare float64
}

// conn is one connection: a signed-in browser (Cookie) or none.
type conn struct {
	Get, Reply, Cookie string
}

// outcome is what a plan measured: latencies in nanoseconds.
type outcome struct {
	Reads, Writes []int64
	Errors        int64
	FirstError    string
	Elapsed       time.Duration
}

// loadgen is the child's main.
func loadgen() error {
	var p plan
	if err := json.NewDecoder(os.Stdin).Decode(&p); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(p.run())
}

func (p plan) run() outcome {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		out   outcome
		errs  atomic.Int64
		first atomic.Value
		seq   atomic.Int64
	)
	start := time.Now()
	end := start.Add(p.Duration)
	for i, cn := range p.Conns {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			reads, writes := make([]int64, 0, 1<<14), make([]int64, 0, 1<<10)
			for time.Now().Before(end) {
				reply := p.ReplyShare > 0 && rng.Float64() < p.ReplyShare
				t0 := time.Now()
				err := cn.do(c, reply, seq.Add(1))
				if err != nil {
					errs.Add(1)
					first.CompareAndSwap(nil, err.Error())
					continue
				}
				if reply {
					writes = append(writes, int64(time.Since(t0)))
				} else {
					reads = append(reads, int64(time.Since(t0)))
				}
			}
			mu.Lock()
			out.Reads, out.Writes = append(out.Reads, reads...), append(out.Writes, writes...)
			mu.Unlock()
		})
	}
	wg.Wait()
	out.Elapsed, out.Errors = time.Since(start), errs.Load()
	if f, ok := first.Load().(string); ok {
		out.FirstError = f
	}
	return out
}

// do sends one request: a page view, or a reply through the real form
// route (POST, 303 to the thread).
func (cn conn) do(c *http.Client, reply bool, n int64) error {
	var req *http.Request
	want := http.StatusOK
	if reply {
		body := url.Values{"body": {fmt.Sprintf("bench reply %d, with **Markdown** as people write it.", n)}}.Encode()
		req, _ = http.NewRequest(http.MethodPost, cn.Reply, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", originOf(cn.Reply)) // a same-origin form post, as a browser sends it
		want = http.StatusSeeOther
	} else {
		req, _ = http.NewRequest(http.MethodGet, cn.Get, nil)
	}
	if cn.Cookie != "" {
		req.Header.Set("Cookie", cn.Cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	return nil
}

func originOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return pu.Scheme + "://" + pu.Host
}
