package handlers_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"fleetprompt/store/storetest"
)

// PostgreSQL crashes (pg_ctl restart -m immediate: every backend killed,
// recovery from the WAL) under a few reply writers. Every reply that got
// its 303 is there afterwards; meanwhile answers are 303 or 503 with
// Retry-After, never 500; and the site recovers by itself. The server is
// durable like the app's (a fast one would lose commits on a crash).
func TestDatabaseCrashLosesNoAcknowledgedReply(t *testing.T) {
	t.Parallel()
	c, st := newPrivateDatabase(t, false)
	s := startSite(t, siteConfig{store: st})
	slug := storetest.Name("crash")
	owner := s.client()
	owner.register(slug)
	thread, _ := owner.forumThread(t, tenantOf(t, st, slug))

	w := &replyWriters{url: s.srv.URL + "/forums/t/" + thread + "/replies", http: owner.http, statuses: map[int]int{}}
	w.start(3)
	w.waitAcked(t, 10, 10*time.Second)
	if err := c.Restart(ctx, "immediate"); err != nil {
		w.stop()
		t.Fatal(err)
	}
	// Recovered: replies are acknowledged again, without any help.
	w.waitAcked(t, w.ackedCount()+10, 15*time.Second)
	w.stop()

	if len(w.bad) > 0 {
		t.Errorf("answers during the crash other than 303 or 503 with Retry-After: %v (all: %v)", w.bad, w.statuses)
	}
	// Writers never pause, so some land while the server recovers.
	if w.statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 while the database was down: %v", w.statuses)
	}
	var found int
	if err := st.DB.Get(&found, `SELECT count(DISTINCT content) FROM `+pq.QuoteIdentifier("org_"+slug)+`.forum_posts WHERE content = ANY($1)`,
		pq.Array(w.acked)); err != nil {
		t.Fatal(err)
	}
	if found != len(w.acked) {
		t.Fatalf("%d of %d acknowledged replies are missing after the crash (answers: %v)", len(w.acked)-found, len(w.acked), w.statuses)
	}
}

// replyWriters post replies in a loop and keep what the server said.
type replyWriters struct {
	url  string
	http *http.Client

	mu       sync.Mutex
	acked    []string // bodies answered 303
	statuses map[int]int
	bad      []string
	done     chan struct{}
	wg       sync.WaitGroup
}

func (w *replyWriters) start(n int) {
	w.done = make(chan struct{})
	for i := range n {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for k := 0; ; k++ {
				select {
				case <-w.done:
					return
				default:
				}
				w.post(fmt.Sprintf("crash reply %d.%d", i, k))
			}
		}()
	}
}

func (w *replyWriters) post(body string) {
	resp, err := w.http.Post(w.url, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"body": {body}}.Encode()))
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.bad = append(w.bad, err.Error())
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	w.statuses[resp.StatusCode]++
	switch {
	case resp.StatusCode == http.StatusSeeOther:
		w.acked = append(w.acked, body)
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		time.Sleep(20 * time.Millisecond) // as a browser would, not at once
	default:
		w.bad = append(w.bad, fmt.Sprint(resp.StatusCode))
	}
}

func (w *replyWriters) ackedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func (w *replyWriters) waitAcked(t *testing.T, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for w.ackedCount() < n {
		if time.Now().After(deadline) {
			w.stop()
			t.Fatalf("fewer than %d replies acknowledged within %s: %v %v", n, limit, w.statuses, w.bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *replyWriters) stop() {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.wg.Wait()
}
