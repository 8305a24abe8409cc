package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hostileOptions shape the hostile clients phase.
type hostileOptions struct {
	samples   int           // at least this many GET / per measurement
	duration  time.Duration // at least this long per measurement
	slowloris int           // connections
	streams   int           // /events streams of one session
	bodies    int           // concurrent oversized posts
	bodySize  int64
}

// latency is one measurement of GET / for a bystander.
type latency struct {
	name           string
	samples, fails int
	want           int // the samples asked for: fewer make no p99
	p50, p99, max  time.Duration
	attack         string // what the attacker saw
	rssKiB         int64  // serve's peak resident memory meanwhile
	fds            int    // serve's open files at the end
	// streams is, for the stream flood, the most streams one session had
	// open at once.
	streams int64
}

// probe is the bystander: another organization's member loading GET /
// on a keep-alive connection, 200 times a second, during an attack.
func probe(ctx context.Context, b *browser, base string, opt hostileOptions) (lats []time.Duration, fails int) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for ctx.Err() == nil {
		if len(lats) >= opt.samples && time.Since(start) >= opt.duration || time.Since(start) > 4*opt.duration {
			return lats, fails
		}
		<-tick.C
		t0 := time.Now()
		r, err := b.do(http.MethodGet, base, "/", nil)
		if err != nil || r.status != http.StatusOK {
			fails++
			continue
		}
		lats = append(lats, time.Since(t0))
	}
	return lats, fails
}

// measure runs attack (nil: none) while the probe samples, watching the
// serve process's memory and files.
func measure(ctx context.Context, name string, b *browser, serve *app, opt hostileOptions, attack func(ctx context.Context) string) latency {
	fmt.Fprintf(os.Stderr, "hostile clients: %s…\n", name)
	actx, stop := context.WithCancel(ctx)
	var summary string
	done := make(chan struct{})
	if attack != nil {
		go func() { summary = attack(actx); close(done) }()
		time.Sleep(3 * time.Second) // the attack takes hold
	} else {
		close(done)
	}
	var peak atomic.Int64
	watchCtx, stopWatch := context.WithCancel(ctx)
	go func() {
		for watchCtx.Err() == nil {
			if kib := rssKiB(serve.pid()); kib > peak.Load() {
				peak.Store(kib)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	lats, fails := probe(ctx, b, "http://"+serve.addr, opt)
	fds := openFiles(serve.pid())
	stopWatch()
	stop()
	<-done
	l := latency{name: name, samples: len(lats), want: opt.samples, fails: fails, attack: summary, rssKiB: peak.Load(), fds: fds}
	if len(lats) > 0 {
		sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
		l.p50, l.p99, l.max = lats[len(lats)/2], lats[len(lats)*99/100], lats[len(lats)-1]
	}
	time.Sleep(2 * time.Second) // let the server shed what the attack left
	return l
}

// slowloris holds n connections that send their request headers one byte
// at a time, each a byte a second, dialling again whenever the server
// closes one (its ReadHeaderTimeout).
func slowloris(addr string, n int) func(ctx context.Context) string {
	return func(ctx context.Context) string {
		var dialFails, closed int
		conns := make([]*slowConn, n)
		for i := range conns {
			if conns[i] = dialSlow(addr); conns[i] == nil {
				dialFails++
			}
		}
		held := 0
		for ctx.Err() == nil {
			round := time.Now()
			held = 0
			for i, c := range conns {
				if c != nil && c.feed() {
					held++
					continue
				}
				if c != nil {
					c.Close()
					closed++
				}
				if conns[i] = dialSlow(addr); conns[i] == nil {
					dialFails++
				}
			}
			if wait := time.Second - time.Since(round); wait > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
			}
		}
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
		return fmt.Sprintf("%d connections held at the end, %d closed by the server and dialled again, %d dials failed", held, closed, dialFails)
	}
}

// slowConn is one slowloris connection; a reader notices when the server
// closes it (a write alone would not, until the next one).
type slowConn struct {
	net.Conn
	gone atomic.Bool
}

func dialSlow(addr string) *slowConn {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil
	}
	c.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: "); err != nil {
		c.Close()
		return nil
	}
	sc := &slowConn{Conn: c}
	go func() {
		io.Copy(io.Discard, c) // until the server closes it (or we do)
		sc.gone.Store(true)
	}()
	return sc
}

// feed sends the next header byte; false when the connection is gone.
func (c *slowConn) feed() bool {
	if c.gone.Load() {
		return false
	}
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := c.Write([]byte{'a'})
	return err == nil
}

// streamFlood opens n /events streams from one session (one user's
// tabs), each reconnecting a second after it ends or is refused, while
// the organization's thread gets two replies a second, so every open
// stream has events to carry.
// peak receives the most streams that were open at once.
func streamFlood(b *browser, base, thread string, n int, peak *atomic.Int64) func(ctx context.Context) string {
	return func(ctx context.Context) string {
		client := &http.Client{Jar: b.http.Jar, Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
		var open atomic.Int64
		var mu sync.Mutex
		statuses := map[string]int{}
		var wg sync.WaitGroup
		// Every goroutine may have its ask in flight at once: a flooder
		// does not wait for its answers (it once dialled 64 at a time,
		// which the server's held refusal made a trickle).
		gate := make(chan struct{}, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					gate <- struct{}{}
					st := floodOnce(ctx, client, base, &open, peak, gate)
					mu.Lock()
					statuses[st]++
					mu.Unlock()
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
			}()
		}
		go func() {
			for ctx.Err() == nil {
				b.do(http.MethodPost, base, "/forums/t/"+thread+"/replies", url.Values{"body": {"flood-time reply"}})
				time.Sleep(500 * time.Millisecond)
			}
		}()
		wg.Wait()
		return fmt.Sprintf("at most %d streams open at once for one session; answers %s", peak.Load(), sortedCounts(statuses))
	}
}

// floodOnce opens one stream and holds it until it ends or ctx does; it
// returns the status it got ("200", "429", "error").
func floodOnce(ctx context.Context, client *http.Client, base string, open, peak *atomic.Int64, gate chan struct{}) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events?topic=tenant", nil)
	resp, err := client.Do(req)
	<-gate
	if err != nil {
		return "error"
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return fmt.Sprint(resp.StatusCode)
	}
	if o := open.Add(1); o > peak.Load() {
		peak.Store(o)
	}
	io.Copy(io.Discard, resp.Body)
	open.Add(-1)
	return "200"
}

// oversized posts multi-megabyte replies, urlencoded and multipart in
// turn, from k clients at once, as fast as the server takes (or refuses)
// them.
func oversized(b *browser, base, thread string, k int, size int64) func(ctx context.Context) string {
	return func(ctx context.Context) string {
		var mu sync.Mutex
		statuses := map[string]int{}
		var wg sync.WaitGroup
		for w := range k {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					st := postHuge(ctx, b, base+"/forums/t/"+thread+"/replies", size, (w+i)%2 == 1)
					mu.Lock()
					statuses[st]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return fmt.Sprintf("%d MiB bodies ×%d at once; answers %s", size>>20, k, sortedCounts(statuses))
	}
}

func postHuge(ctx context.Context, b *browser, u string, size int64, multipart bool) string {
	head, tail, ctype := "body=", "", "application/x-www-form-urlencoded"
	if multipart {
		head = "--fpbound\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n"
		tail, ctype = "\r\n--fpbound--\r\n", "multipart/form-data; boundary=fpbound"
	}
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(repeatReader('a'), size), strings.NewReader(tail))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	req.ContentLength = int64(len(head)) + size + int64(len(tail))
	req.Header.Set("Content-Type", ctype)
	resp, err := b.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "cut by the bench's end"
		}
		return "connection closed while sending"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode)
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func (l latency) met() bool { return l.samples >= l.want && l.p99 <= 50*time.Millisecond }

func (l latency) print() {
	fmt.Printf("%-26s GET / for another member: p50 %5.1f ms, p99 %6.1f ms, max %6.1f ms (%d samples, %d failed); serve peak RSS %.0f MiB, %d open files\n",
		l.name, ms(l.p50), ms(l.p99), ms(l.max), l.samples, l.fails, float64(l.rssKiB)/1024, l.fds)
	if l.attack != "" {
		fmt.Printf("%-26s   attacker: %s\n", "", l.attack)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
