package live

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/r3labs/sse/v2"
)

// The hub's pre-encoded frames are byte for byte what r3labs writes for
// the same events: the hub writes every event after r3labs' handshake,
// in r3labs' own format.
func TestFramesMatchR3labs(t *testing.T) {
	evs := []*sse.Event{
		{ID: []byte("42"), Event: []byte("forum.post.created"), Data: []byte(`<li id="post-1">hi</li>`)},
		{ID: []byte("43"), Data: []byte("two\nlines")},
		{ID: []byte("44"), Event: []byte("x"), Data: []byte("d"), Retry: []byte("3000")},
		{Comment: []byte("keep-alive")},
		{ID: []byte("45"), Event: []byte("y"), Data: []byte("trailing\n")},
	}
	srv := sse.New()
	srv.AutoReplay, srv.AutoStream, srv.SplitData = false, false, true
	joined, gone := make(chan struct{}), make(chan struct{})
	srv.OnSubscribe = func(string, *sse.Subscriber) { close(joined) }
	srv.OnUnsubscribe = func(string, *sse.Subscriber) { close(gone) }
	srv.CreateStream("s")
	rctx, cancel := context.WithCancel(context.Background())
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequestWithContext(rctx, http.MethodGet, "/?stream=s", nil)
		srv.ServeHTTP(rec, req)
	}()
	<-joined // events published before are dropped
	for _, ev := range evs {
		srv.Publish("s", ev)
	}
	srv.Publish("s", endOfR3labs)
	<-done
	cancel()
	<-gone // deregistered: closing the server strands nothing
	srv.Close()

	var want []byte
	for _, ev := range evs {
		want = appendFrame(want, ev)
	}
	if got := rec.Body.String(); got != string(want) {
		t.Fatalf("r3labs wrote\n%q\nframes are\n%q", got, want)
	}
	if strings.Contains(rec.Body.String(), "\n\n\n") {
		t.Fatal("the end-of-r3labs marker wrote something")
	}
}
