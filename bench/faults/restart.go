package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// restartOptions shape the database restart phase.
type restartOptions struct {
	streams int
	writers int
	down    time.Duration // the stop's length
}

// restartReport is the database restart phase's figures.
type restartReport struct {
	restartTook               time.Duration // pg_ctl restart -m immediate itself (crash recovery included)
	recoverRestart            time.Duration // restart done → first acknowledged reply
	stopTook                  time.Duration // stop, down, start
	recoverStop               time.Duration // server back after the stop → first acknowledged reply
	statuses                  map[string]int
	acked, missing            int
	streams                   int
	gaps, dups, extra         int
	reloads, refusedStreams   int
	streamStatuses            map[int]int
	expected                  int
	caughtUp                  bool
	unexpectedExits           []string
	restartErr, stopErr       error
	recoveredRestart, recStop bool
}

// replyLoad posts replies from a few writers, recording every answer.
type replyLoad struct {
	b      *browser
	thread string
	prefix string

	mu       sync.Mutex
	statuses map[string]int
	acked    []string
	lastAck  atomic.Int64 // unix nanos of the latest 303
}

func (l *replyLoad) run(ctx context.Context, writer int) {
	for n := 0; ctx.Err() == nil; n++ {
		body := fmt.Sprintf("%s %d %d %08x", l.prefix, writer, n, rand.Uint32())
		r, err := l.b.do(http.MethodPost, l.b.base(), "/forums/t/"+l.thread+"/replies", url.Values{"body": {body}})
		l.mu.Lock()
		switch {
		case err != nil:
			l.statuses["reply connection-error"]++
		default:
			l.statuses[fmt.Sprintf("reply %d", r.status)]++
			if r.status == http.StatusSeeOther {
				l.acked = append(l.acked, body)
				l.lastAck.Store(time.Now().UnixNano())
			}
		}
		l.mu.Unlock()
		if err != nil || r.status != http.StatusSeeOther {
			time.Sleep(100 * time.Millisecond) // a person waits before trying again
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// read loads the thread page as its readers do, once every 20 ms.
func (l *replyLoad) read(ctx context.Context) {
	for ctx.Err() == nil {
		r, err := l.b.do(http.MethodGet, l.b.base(), "/forums/t/"+l.thread, nil)
		l.mu.Lock()
		if err != nil {
			l.statuses["page connection-error"]++
		} else {
			l.statuses[fmt.Sprintf("page %d", r.status)]++
		}
		l.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
}

// ackedSince waits until a reply is acknowledged after t, up to limit,
// and returns how long after t that was.
func (l *replyLoad) ackedSince(t time.Time, limit time.Duration) (time.Duration, bool) {
	deadline := t.Add(limit)
	for time.Now().Before(deadline) {
		if at := l.lastAck.Load(); at > t.UnixNano() {
			return time.Duration(at - t.UnixNano()), true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return limit, false
}

func runRestart(ctx context.Context, f *fleet, d *database, tn *tenant, opt restartOptions) (restartReport, error) {
	r := restartReport{streamStatuses: map[int]int{}}
	schema := "org_" + tn.slug
	var seq0 int64
	if err := d.db.GetContext(ctx, &seq0, `SELECT coalesce(max(seq), 0) FROM `+pq.QuoteIdentifier(schema)+`.signals`); err != nil {
		return r, err
	}
	// Each stream is its own signed-in tab, resuming from seq0.
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var streams []*stream
	for range opt.streams {
		b := newBrowser(f.urls())
		if err := b.login(tn.owner.email); err != nil {
			return r, err
		}
		s := newStream(b, "/events?topic=thread:"+tn.thread, seq0)
		streams = append(streams, s)
		go s.run(streamCtx)
	}
	for _, s := range streams {
		select {
		case <-s.connected:
		case <-time.After(15 * time.Second):
			return r, fmt.Errorf("a stream did not open within 15 s")
		}
	}
	r.streams = len(streams)

	load := &replyLoad{b: tn.owner, thread: tn.thread, prefix: "restart-reply", statuses: map[string]int{}}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range opt.writers {
		wg.Add(1)
		go func() { defer wg.Done(); load.run(loadCtx, w) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); load.read(loadCtx) }()
	fmt.Fprintf(os.Stderr, "database restart: %d writers, %d streams; pg_ctl restart -m immediate in 3 s\n", opt.writers, opt.streams)
	time.Sleep(3 * time.Second)
	r.restartTook, r.restartErr = d.restartImmediate(ctx)
	back := time.Now()
	r.recoverRestart, r.recoveredRestart = load.ackedSince(back, 30*time.Second)
	time.Sleep(3 * time.Second)
	fmt.Fprintf(os.Stderr, "database restart: stopping the server for %s\n", opt.down)
	stopped := time.Now()
	r.stopErr = d.stopFor(ctx, opt.down)
	back = time.Now()
	r.stopTook = back.Sub(stopped)
	r.recoverStop, r.recStop = load.ackedSince(back, 30*time.Second)
	time.Sleep(3 * time.Second)
	stopLoad()
	wg.Wait()

	want, err := expectedSeqs(ctx, d, schema, tn.thread, seq0)
	if err != nil {
		return r, err
	}
	r.expected = len(want)
	r.caughtUp = waitStreams(streams, want, 20*time.Second)
	stopStreams()
	for _, s := range streams {
		g, dd, e := s.compare(want)
		r.gaps, r.dups, r.extra = r.gaps+g, r.dups+dd, r.extra+e
		s.mu.Lock()
		r.reloads += s.reloads
		for st, n := range s.refused {
			r.streamStatuses[st] += n
			load.statuses[fmt.Sprintf("stream %d", st)] += n
		}
		s.mu.Unlock()
	}
	r.statuses = load.statuses
	r.acked = len(load.acked)
	if r.missing, err = missingPosts(ctx, d, schema, load.acked); err != nil {
		return r, err
	}
	_, r.unexpectedExits = f.unexpectedExits()
	return r, nil
}

// expectedSeqs are the signals a thread:<id> stream must deliver after
// seq0, by the live layer's routing rule: about the thread, or one of
// its posts (payload thread_id or subject).
func expectedSeqs(ctx context.Context, d *database, schema, thread string, seq0 int64) ([]int64, error) {
	s := pq.QuoteIdentifier(schema)
	var out []int64
	err := d.db.SelectContext(ctx, &out, `SELECT seq FROM `+s+`.signals WHERE seq > $1 AND (payload->>'thread_id' = $2
		OR (subject_type = 'forum_thread' AND subject_id = $2)
		OR (subject_type = 'forum_post' AND subject_id IN (SELECT id::text FROM `+s+`.forum_posts WHERE thread_id = $2::uuid)))
		ORDER BY seq`, seq0, thread)
	return out, err
}

// waitStreams waits until every stream has reached the last wanted seq.
func waitStreams(streams []*stream, want []int64, limit time.Duration) bool {
	if len(want) == 0 {
		return true
	}
	end := want[len(want)-1]
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		behind := 0
		for _, s := range streams {
			if s.lastSeq() < end {
				behind++
			}
		}
		if behind == 0 {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// missingPosts counts acknowledged replies whose post is not there.
func missingPosts(ctx context.Context, d *database, schema string, bodies []string) (int, error) {
	if len(bodies) == 0 {
		return 0, nil
	}
	var found int
	err := d.db.GetContext(ctx, &found, `SELECT count(DISTINCT content) FROM `+pq.QuoteIdentifier(schema)+`.forum_posts WHERE content = ANY($1)`, pq.Array(bodies))
	return len(bodies) - found, err
}

// fiveXX counts the 500s, the 503s and the other 5xx answers of replies,
// page loads and stream (re)connections.
func (r restartReport) fiveXX() (n500, n503, other int) {
	for k, v := range r.statuses {
		_, code, _ := strings.Cut(k, " ")
		switch {
		case code == "500":
			n500 += v
		case code == "503":
			n503 += v
		case len(code) == 3 && code[0] == '5':
			other += v
		}
	}
	return n500, n503, other
}

func (r restartReport) print() {
	fmt.Println("== database restart ==")
	if r.restartErr != nil || r.stopErr != nil {
		fmt.Printf("fault injection failed: restart %v, stop %v\n", r.restartErr, r.stopErr)
	}
	fmt.Printf("pg_ctl restart -m immediate took %.1f s (crash recovery from the WAL included); the stop kept it away %.1f s\n",
		r.restartTook.Seconds(), r.stopTook.Seconds())
	fmt.Printf("answers: %s\n", sortedCounts(r.statuses))
	n500, n503, other := r.fiveXX()
	fmt.Printf("5xx: %d × 500, %d × 503, %d other 5xx\n", n500, n503, other)
	fmt.Printf("acknowledged replies missing: %d of %d\n", r.missing, r.acked)
	fmt.Printf("recovery: first acknowledged reply %.2f s after the restarted server took connections (%.1f s after the crash; recovered %v), %.2f s after the stopped one was back (recovered %v)\n",
		r.recoverRestart.Seconds(), (r.restartTook + r.recoverRestart).Seconds(), r.recoveredRestart, r.recoverStop.Seconds(), r.recStop)
	fmt.Printf("streams: %d on thread:<id> with Last-Event-ID resume; %d signals to deliver to each; all caught up %v\n", r.streams, r.expected, r.caughtUp)
	fmt.Printf("  after resume: %d gaps, %d duplicates, %d not of the topic, %d reload notices; reconnects refused: %s\n",
		r.gaps, r.dups, r.extra, r.reloads, sortedCounts(r.streamStatuses))
	if len(r.unexpectedExits) > 0 {
		fmt.Printf("processes that exited by themselves so far: %v\n", r.unexpectedExits)
	}
}
