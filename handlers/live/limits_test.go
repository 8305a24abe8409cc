package live_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"fleetprompt/handlers/live"
)

// status opens query as a stream and returns its status, closing it.
func (e *env) status(t *testing.T, query string) int {
	t.Helper()
	resp, err := noKeepAlive.Get(e.srv.URL + "/events?" + query)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Streams are capped per session and per process: the stream past a cap
// is refused before anything is written, and counted; a stream that
// closes makes room again.
func TestStreamCaps(t *testing.T) {
	e := newEnv(t, envOpts{cfg: live.Config{MaxSessionStreams: 2, MaxStreams: 3}})
	a1 := e.open(t, "topic=tenant&session=a")
	e.open(t, "topic=installations&session=a")
	if got := e.status(t, "topic=tenant&session=a"); got != http.StatusTooManyRequests {
		t.Fatalf("third stream of a session: %d, want 429", got)
	}
	e.open(t, "topic=tenant&session=b")
	e.waitSubscribers(3)
	if got := e.status(t, "topic=tenant&session=c"); got != http.StatusTooManyRequests {
		t.Fatalf("fourth stream of the process: %d, want 429", got)
	}
	if st := e.hub.Stats(); st.Refused != 2 || st.Open != 3 {
		t.Fatalf("stats %+v", st)
	}
	a1.close()
	e.waitSubscribers(2)
	c := e.open(t, "topic=tenant&session=a")
	seq := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "x"})
	if ev := c.next(t); ev.ID != strconv.FormatInt(seq, 10) {
		t.Fatalf("stream after a close: got %q, want %d", ev.ID, seq)
	}
	// Refused and closed streams left nothing promised in the waker.
	e.waitStats(func(st live.Stats) bool { return st.Waking == 0 })
}

// A client that stops reading while nothing more is queued for it is cut
// once its write has been blocked for WriteTimeout, and counted.
func TestBlockedWriteIsCut(t *testing.T) {
	e := newEnv(t, envOpts{cfg: live.Config{WriteTimeout: 300 * time.Millisecond, QueueSize: 1000, SendBuffer: 4096}})
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	stalledConn(t, addr, "/events?topic=tenant")
	e.waitSubscribers(1)
	// A few big events fill the socket's buffers; the writer blocks.
	var last int64
	for i := 0; i < 8; i++ {
		last = emit(t, e.st, e.tenant, "test.big.event", nil)
	}
	e.waitProcessed(last)
	e.waitSubscribers(0)
	e.waitStats(func(st live.Stats) bool { return st.Cut == 1 })
}

// A stream that was cut loses nothing: its client reconnects with the
// last id it had and the replay brings every event after it, in order,
// each once.
func TestCutStreamResumesWithNothingMissed(t *testing.T) {
	e := newEnv(t, envOpts{cfg: live.Config{QueueSize: 2}})
	r := e.pausedReader(t)
	// Not read meanwhile: far more than the socket and the queue hold.
	seqs := e.emitBig(t, 120)
	e.waitSubscribers(0)
	e.waitStats(func(st live.Stats) bool { return st.Cut == 1 })
	// Whatever arrived before the cut, the client resumes after the last
	// id it read.
	var got int64
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			got, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	c := e.open(t, "topic=tenant", "Last-Event-ID", strconv.FormatInt(got, 10))
	for _, want := range seqs {
		if want <= got {
			continue
		}
		if ev := c.next(t); ev.ID != strconv.FormatInt(want, 10) {
			t.Fatalf("resumed after %d: got %q, want %d", got, ev.ID, want)
		}
	}
}
