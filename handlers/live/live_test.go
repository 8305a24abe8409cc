package live_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"go.uber.org/goleak"

	"fleetprompt/handlers/live"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
	"fleetprompt/views"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var ctx = context.Background()

// env is a hub over the test database, served by a bare HTTP server whose
// handler subscribes every request to ?topic= of one tenant (the handlers
// package tests the real /events route with sessions and isolation).
type env struct {
	t      *testing.T
	st     *store.Store
	hub    *live.Hub
	srv    *httptest.Server
	tenant store.Tenant

	mu        sync.Mutex
	processed map[int64]chan struct{}
}

type envOpts struct {
	cfg          live.Config
	writeTimeout time.Duration
	st           *store.Store
	tenant       *store.Tenant
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	st := o.st
	if st == nil {
		st = storetest.Store(t)
	}
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	rend, err := views.New(assets, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.cfg.Logger == nil {
		o.cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &env{t: t, st: st, processed: map[int64]chan struct{}{}}
	e.hub = live.NewHub(st, storetest.DSN(), rend, o.cfg)
	e.hub.SetProcessedHook(func(schema string, seq int64) { e.done(seq) })
	e.hub.Render("test.big.", func(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
		return []live.Fragment{{Kind: live.KindTenant, HTML: []byte("<p>" + strings.Repeat("x", 64<<10) + "</p>")}}, nil
	})
	if o.tenant != nil {
		e.tenant = *o.tenant
	} else {
		e.tenant = register(t, st)
	}
	if err := e.hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(e.serve))
	e.srv.Config.WriteTimeout = o.writeTimeout
	e.srv.Start()
	t.Cleanup(func() {
		e.srv.CloseClientConnections()
		e.hub.Close()
		e.srv.Close()
	})
	return e
}

func (e *env) serve(w http.ResponseWriter, r *http.Request) {
	topic, err := live.ParseTopic(r.URL.Query().Get("topic"))
	if err != nil {
		http.Error(w, "bad topic", http.StatusNotFound)
		return
	}
	req := live.Request{Tenant: e.tenant, Topic: topic, Session: r.URL.Query().Get("session")}
	cursor := r.Header.Get("Last-Event-ID")
	if cursor == "" {
		cursor = r.URL.Query().Get("last_event_id")
	}
	if cursor != "" {
		req.After, _ = strconv.ParseInt(cursor, 10, 64)
		req.Resume = true
	}
	switch err := e.hub.Serve(w, r, req); {
	case errors.Is(err, live.ErrSessionStreams), errors.Is(err, live.ErrTooManyStreams):
		http.Error(w, err.Error(), http.StatusTooManyRequests)
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}
}

func register(t *testing.T, st *store.Store) store.Tenant {
	t.Helper()
	slug := storetest.Name("live")
	_, org, err := st.Register(ctx, store.Registration{OrgName: "Org " + slug, OrgSlug: slug, Name: "Owner",
		Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	return store.Tenant{OrgID: org.ID, Slug: org.Slug}
}

func (e *env) done(seq int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch := e.processed[seq]
	if ch == nil {
		ch = make(chan struct{})
		e.processed[seq] = ch
	}
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// waitProcessed waits until the hub has fanned out seq.
func (e *env) waitProcessed(seq int64) {
	e.t.Helper()
	e.mu.Lock()
	ch := e.processed[seq]
	if ch == nil {
		ch = make(chan struct{})
		e.processed[seq] = ch
	}
	e.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		e.t.Fatalf("signal %d was never processed", seq)
	}
}

// emit commits one signal in tenant t and returns its seq.
func emit(tb testing.TB, st *store.Store, t store.Tenant, name string, payload map[string]any) int64 {
	tb.Helper()
	var seq int64
	err := st.Tx(ctx, func(tx *sqlx.Tx) error {
		sig, _, err := st.EmitSignal(ctx, tx, t, store.NewSignal{Name: name, Source: "test", Payload: payload,
			Actor: store.SystemActor("test")})
		seq = sig.Seq
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return seq
}

// sseEvent is one dispatched event, or a comment line (Comment set).
type sseEvent struct {
	ID, Name, Data, Comment string
	HasID                   bool
}

// client is one open event stream.
type client struct {
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
	ended  chan struct{}
}

func (e *env) open(t *testing.T, query string, headers ...string) *client {
	t.Helper()
	return openURL(t, e.srv.URL+"/events?"+query, headers...)
}

var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func openURL(t *testing.T, url string, headers ...string) *client {
	t.Helper()
	cctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	c := &client{resp: resp, events: make(chan sseEvent, 4096), cancel: cancel, ended: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	return c
}

func (c *client) close() {
	c.cancel()
	c.resp.Body.Close()
	<-c.ended
}

// read parses the stream as a browser's EventSource does (the parts we use).
func (c *client) read() {
	defer close(c.ended)
	defer close(c.events)
	r := bufio.NewReader(c.resp.Body)
	var ev sseEvent
	var data []string
	hasData := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if hasData {
				ev.Data = strings.Join(data, "\n")
			}
			if hasData || ev.Comment != "" {
				c.events <- ev
			}
			ev, data, hasData = sseEvent{}, nil, false
		case strings.HasPrefix(line, ":"):
			ev.Comment = strings.TrimSpace(line[1:])
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.ID, ev.HasID = value, true
			case "event":
				ev.Name = value
			case "data":
				data, hasData = append(data, value), true
			}
		}
	}
}

// next returns the next event (skipping comments).
func (c *client) next(t *testing.T) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatal("stream ended")
			}
			if ev.Comment != "" && !ev.HasID {
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 10s")
		}
	}
}

// waitEnd waits for the server to end the stream.
func (c *client) waitEnd(t *testing.T) {
	t.Helper()
	select {
	case <-c.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("stream still open after 10s")
	}
}

// waitStats waits until the hub's counters satisfy ok.
func (e *env) waitStats(ok func(live.Stats) bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st := e.hub.Stats(); !ok(st); st = e.hub.Stats() {
		if time.Now().After(deadline) {
			e.t.Fatalf("hub stats %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSubscribers waits until the hub counts n streams.
func (e *env) waitSubscribers(n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.hub.Subscribers() != n {
		if time.Now().After(deadline) {
			e.t.Fatalf("hub has %d subscribers, want %d", e.hub.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventsCarrySeqNameAndFragment(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.open(t, "topic=tenant")
	e.waitSubscribers(1)
	var seqs []int64
	for i := 0; i < 3; i++ {
		seqs = append(seqs, emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "general"}))
	}
	for _, seq := range seqs {
		ev := c.next(t)
		if !ev.HasID || ev.ID != strconv.FormatInt(seq, 10) {
			t.Fatalf("event id %q, want %d", ev.ID, seq)
		}
		if ev.Name != "forum.category.created" {
			t.Fatalf("event name %q", ev.Name)
		}
		if !strings.Contains(ev.Data, `id="activity-`+ev.ID+`"`) || strings.ContainsAny(ev.Data, "\r\n") {
			t.Fatalf("data is not the multi-line activity row:\n%s", ev.Data)
		}
	}
}

func TestMalformedTopicsAreRefused(t *testing.T) {
	for _, s := range []string{"", "tenant:", "thread:", "thread:nope", "thread:../x", "category:Bad Slug", "installations:x", "tenants", "org_x/tenant"} {
		if _, err := live.ParseTopic(s); err == nil {
			t.Errorf("ParseTopic(%q) accepted", s)
		}
	}
	for _, s := range []string{"tenant", "installations", "category:support", "thread:6f1c2d3e-0000-4000-8000-000000000001"} {
		if tp, err := live.ParseTopic(s); err != nil || tp.String() != s {
			t.Errorf("ParseTopic(%q) = %v, %v", s, tp, err)
		}
	}
}

// Resume after a dropped connection delivers exactly what was missed, in
// order, even while new signals keep committing during the replay.
func TestResumeDeliversExactlyWhatWasMissed(t *testing.T) {
	e := newEnv(t, envOpts{})
	c := e.open(t, "topic=tenant")
	e.waitSubscribers(1)
	first := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "a"})
	if ev := c.next(t); ev.ID != strconv.FormatInt(first, 10) {
		t.Fatalf("got %q, want %d", ev.ID, first)
	}
	c.close()
	e.waitSubscribers(0)

	// Missed while away.
	for i := 0; i < 5; i++ {
		emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "a"})
	}
	// Keep committing while the client resumes: the step between
	// replay and live delivery must neither drop nor repeat.
	stop := make(chan struct{})
	writerDone := make(chan int64)
	go func() {
		var last int64
		for {
			select {
			case <-stop:
				writerDone <- last
				return
			default:
			}
			last = emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "b"})
		}
	}()
	c2 := e.open(t, "topic=tenant", "Last-Event-ID", strconv.FormatInt(first, 10))
	time.Sleep(50 * time.Millisecond) // let some commits race the replay
	close(stop)
	last := <-writerDone
	e.waitProcessed(last)

	want := first + 1
	var all []int64
	if err := e.st.DB.Select(&all, e.tenant.SQL(`SELECT seq FROM {tenant}.signals WHERE seq > $1 ORDER BY seq`), first); err != nil {
		t.Fatal(err)
	}
	for _, seq := range all {
		ev := c2.next(t)
		got, _ := strconv.ParseInt(ev.ID, 10, 64)
		if got != seq {
			t.Fatalf("after %d: got event %d, want %d (gap or duplicate)", want-1, got, seq)
		}
		want = seq + 1
	}
	// Nothing more (no duplicate of the last one).
	extra := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "c"})
	if ev := c2.next(t); ev.ID != strconv.FormatInt(extra, 10) {
		t.Fatalf("once live got %q, want %d", ev.ID, extra)
	}
	if len(all) < 6 {
		t.Fatalf("only %d signals to resume", len(all))
	}
}

// The page's seq in the URL resumes a stream opened without the header
// (htmx-ext-sse's reconnects after a non-200 answer); the header wins.
func TestResumeFromQueryParameter(t *testing.T) {
	e := newEnv(t, envOpts{})
	a := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "a"})
	b := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "a"})
	c := e.open(t, "topic=tenant&last_event_id="+strconv.FormatInt(a, 10))
	if ev := c.next(t); ev.ID != strconv.FormatInt(b, 10) {
		t.Fatalf("got %q, want %d", ev.ID, b)
	}
	c2 := e.open(t, "topic=tenant&last_event_id=0", "Last-Event-ID", strconv.FormatInt(a, 10))
	if ev := c2.next(t); ev.ID != strconv.FormatInt(b, 10) {
		t.Fatalf("header should win: got %q, want %d", ev.ID, b)
	}
}

// Topics route by payload: a thread stream gets its thread's signals only.
func TestThreadTopicGetsOnlyItsThread(t *testing.T) {
	e := newEnv(t, envOpts{})
	th := "6f1c2d3e-0000-4000-8000-000000000001"
	other := "6f1c2d3e-0000-4000-8000-000000000002"
	c := e.open(t, "topic=thread:"+th)
	cat := e.open(t, "topic=category:support")
	e.waitSubscribers(2)
	emit(t, e.st, e.tenant, "forum.thread.locked", map[string]any{"thread_id": other, "category_slug": "other"})
	mine := emit(t, e.st, e.tenant, "forum.thread.locked", map[string]any{"thread_id": th, "category_slug": "support"})
	if ev := c.next(t); ev.ID != strconv.FormatInt(mine, 10) {
		t.Fatalf("thread stream got %q, want %d", ev.ID, mine)
	}
	if ev := cat.next(t); ev.ID != strconv.FormatInt(mine, 10) {
		t.Fatalf("category stream got %q, want %d", ev.ID, mine)
	}
}

// The tenant topic never carries another organization's signals.
func TestTenantTopicShowsOnlyOwnSignals(t *testing.T) {
	e := newEnv(t, envOpts{})
	other := register(t, e.st)
	c := e.open(t, "topic=tenant")
	e.waitSubscribers(1)
	foreign := emit(t, e.st, other, "forum.category.created", map[string]any{"slug": "secret"})
	e.waitProcessed(foreign)
	own := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "mine"})
	if ev := c.next(t); ev.ID != strconv.FormatInt(own, 10) {
		t.Fatalf("got %q (%s), want own %d", ev.ID, ev.Data, own)
	}
}

func TestHeartbeatKeepsIdleStreamsAlive(t *testing.T) {
	e := newEnv(t, envOpts{cfg: live.Config{Heartbeat: 100 * time.Millisecond}})
	c := e.open(t, "topic=tenant")
	select {
	case ev := <-c.events:
		if ev.Comment == "" || ev.HasID {
			t.Fatalf("expected a comment line, got %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat")
	}
}

// http.Server.WriteTimeout would cut a stream after a fixed time; Serve
// clears the deadline for stream requests.
func TestWriteTimeoutDoesNotKillStream(t *testing.T) {
	e := newEnv(t, envOpts{cfg: live.Config{Heartbeat: 50 * time.Millisecond}, writeTimeout: 200 * time.Millisecond})
	c := e.open(t, "topic=tenant")
	deadline := time.Now().Add(800 * time.Millisecond)
	for time.Now().Before(deadline) {
		select {
		case _, ok := <-c.events:
			if !ok {
				t.Fatal("stream was cut by WriteTimeout")
			}
		case <-time.After(2 * time.Second):
			t.Fatal("stream went silent")
		}
	}
	seq := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "late"})
	if ev := c.next(t); ev.ID != strconv.FormatInt(seq, 10) {
		t.Fatalf("got %q, want %d", ev.ID, seq)
	}
}

// stalledConn opens a stream and never reads it, with a tiny receive
// buffer so the server's writes block soon.
func stalledConn(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(network, address string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr)
	return conn
}

// A subscriber that stops reading never delays a healthy one (nor the
// hub's publishing); it is dropped once its bounded queue is full.
func TestStalledSubscriberDoesNotDelayOthers(t *testing.T) {
	e := newEnv(t, envOpts{cfg: live.Config{QueueSize: 4}})
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	stalledConn(t, addr, "/events?topic=tenant")
	e.waitSubscribers(1)
	healthy := e.open(t, "topic=tenant")
	e.waitSubscribers(2)

	const n = 300 // × 64 KiB: far more than socket buffers and queues hold
	var worst time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		seq := emit(t, e.st, e.tenant, "test.big.event", nil)
		ev := healthy.next(t)
		if ev.ID != strconv.FormatInt(seq, 10) {
			t.Fatalf("healthy got %q, want %d", ev.ID, seq)
		}
		worst = max(worst, time.Since(start))
	}
	if worst > 2*time.Second {
		t.Fatalf("a healthy subscriber waited %v for an event", worst)
	}
	// The stalled one was cut, and counted; the healthy one is still there.
	e.waitSubscribers(1)
	e.waitStats(func(st live.Stats) bool { return st.Cut == 1 && st.Open == 1 })
	t.Logf("worst commit-to-receipt for the healthy subscriber: %v", worst)
}

// Signing out ends the session's streams, in every process.
func TestEndSessionEndsStreams(t *testing.T) {
	e := newEnv(t, envOpts{})
	e2 := newEnv(t, envOpts{st: e.st, tenant: &e.tenant})
	mine := e.open(t, "topic=tenant&session=tok-1")
	elsewhere := e2.open(t, "topic=tenant&session=tok-1")
	other := e.open(t, "topic=tenant&session=tok-2")
	e.waitSubscribers(2)
	e2.waitSubscribers(1)
	if err := e.hub.EndSession(ctx, "tok-1"); err != nil {
		t.Fatal(err)
	}
	mine.waitEnd(t)
	elsewhere.waitEnd(t)
	seq := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "x"})
	if ev := other.next(t); ev.ID != strconv.FormatInt(seq, 10) {
		t.Fatalf("the other session's stream got %q", ev.ID)
	}
}

// Two hubs on one database behave as one site: a signal committed
// anywhere reaches streams served by either.
func TestTwoHubsOneDatabase(t *testing.T) {
	a := newEnv(t, envOpts{})
	b := newEnv(t, envOpts{st: a.st, tenant: &a.tenant})
	ca := a.open(t, "topic=tenant")
	cb := b.open(t, "topic=tenant")
	a.waitSubscribers(1)
	b.waitSubscribers(1)
	seq := emit(t, a.st, a.tenant, "forum.post.created", map[string]any{"thread_id": "6f1c2d3e-0000-4000-8000-000000000001"})
	for _, c := range []*client{ca, cb} {
		if ev := c.next(t); ev.ID != strconv.FormatInt(seq, 10) {
			t.Fatalf("got %q, want %d", ev.ID, seq)
		}
	}
}

// No goroutine outlives its stream, however it ends: the client leaves,
// the session ends, or the hub drops it (r3labs' RemoveStream would strand
// one per client if called with the subscriber still registered).
func TestNoGoroutineLeakAfterDisconnects(t *testing.T) {
	e := newEnv(t, envOpts{cfg: live.Config{Heartbeat: 50 * time.Millisecond}})
	// Warm up pools (database, HTTP) so they are part of the baseline.
	w := e.open(t, "topic=tenant&last_event_id=0")
	emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "warm"})
	w.next(t)
	w.close()
	e.waitSubscribers(0)
	baseline := goleak.IgnoreCurrent()

	var cs []*client
	for i := 0; i < 30; i++ {
		topic := []string{"topic=tenant", "topic=installations", "topic=category:support",
			"topic=thread:6f1c2d3e-0000-4000-8000-000000000001"}[i%4]
		cs = append(cs, e.open(t, fmt.Sprintf("%s&session=s%d&last_event_id=0", topic, i%3)))
	}
	e.waitSubscribers(30)
	seq := emit(t, e.st, e.tenant, "forum.thread.locked", map[string]any{"thread_id": "6f1c2d3e-0000-4000-8000-000000000001", "category_slug": "support"})
	e.waitProcessed(seq)
	for _, c := range cs[:10] { // clients leave
		c.close()
	}
	if err := e.hub.EndSession(ctx, "s1"); err != nil { // the server ends some
		t.Fatal(err)
	}
	for _, c := range cs[10:] {
		c.close()
	}
	e.waitSubscribers(0)
	e.waitStats(func(st live.Stats) bool { return st.Waking == 0 })
	goleak.VerifyNone(t, baseline)
}

// Close ends every stream and leaves nothing running.
func TestCloseEndsStreamsWithoutLeaks(t *testing.T) {
	e := newEnv(t, envOpts{})
	baseline := goleak.IgnoreCurrent()
	var cs []*client
	for i := 0; i < 10; i++ {
		cs = append(cs, e.open(t, "topic=tenant"))
	}
	e.waitSubscribers(10)
	e.hub.Close()
	for _, c := range cs {
		c.waitEnd(t)
	}
	e.srv.CloseClientConnections()
	// The hub's own loops (listener, heartbeat) are gone too, so compare
	// against the baseline minus nothing: everything that remains must
	// have existed before.
	goleak.VerifyNone(t, baseline)
}

// A client that reads slowly, but reads, gets every event in order: what
// its socket does not take at once waits in its queue, and leaves in
// coalesced writes when the socket has room again.
func TestSlowSubscriberGetsEverythingInOrder(t *testing.T) {
	e := newEnv(t, envOpts{cfg: live.Config{QueueSize: 200}})
	r := e.pausedReader(t)
	// Not read meanwhile: far more than the socket buffers hold, less
	// than the queue.
	seqs := e.emitBig(t, 150)
	for _, want := range seqs {
		if id := nextID(t, r); id != want {
			t.Fatalf("got %d, want %d", id, want)
		}
	}
	// The writer fell behind and caught up several events at a time (it
	// counts a write once the call returns, a moment after the client
	// has read its end).
	e.waitStats(func(st live.Stats) bool { return st.CoalescedWrites > 0 && st.Frames == 151 && st.Cut == 0 })
	// Caught up: a small event arrives at once.
	last := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "b"})
	if id := nextID(t, r); id != last {
		t.Fatalf("got %d, want %d", id, last)
	}
	e.waitSubscribers(1)
}

// pausedReader opens a stream on a connection with a tiny receive
// buffer, reads its first event, and returns it for the test to read
// later (or never).
func (e *env) pausedReader(t *testing.T) *bufio.Reader {
	t.Helper()
	conn := stalledConn(t, strings.TrimPrefix(e.srv.URL, "http://"), "/events?topic=tenant")
	e.waitSubscribers(1)
	r := bufio.NewReader(conn)
	// Live: the handshake and the (empty) replay are through.
	first := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "a"})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if id := nextID(t, r); id != first {
		t.Fatalf("got %d, want %d", id, first)
	}
	return r
}

// emitBig commits n signals whose events are 64 KiB each and waits until
// the hub has fanned them out.
func (e *env) emitBig(t *testing.T, n int) []int64 {
	t.Helper()
	var seqs []int64
	for i := 0; i < n; i++ {
		seqs = append(seqs, emit(t, e.st, e.tenant, "test.big.event", nil))
	}
	e.waitProcessed(seqs[len(seqs)-1])
	return seqs
}

// nextID reads a raw stream up to the next event's id line.
func nextID(t *testing.T, r *bufio.Reader) int64 {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatalf("id line %q", line)
			}
			return id
		}
	}
}

// flushOnly hides everything but flushing (no Hijack, no Unwrap), as an
// HTTP/2 response would.
type flushOnly struct{ w http.ResponseWriter }

func (f flushOnly) Header() http.Header         { return f.w.Header() }
func (f flushOnly) Write(p []byte) (int, error) { return f.w.Write(p) }
func (f flushOnly) WriteHeader(code int)        { f.w.WriteHeader(code) }
func (f flushOnly) Flush()                      { f.w.(http.Flusher).Flush() }

// A response that cannot be taken over is streamed by r3labs in the
// request itself: replay, live events, and its end when the client goes.
func TestStreamWithoutHijack(t *testing.T) {
	e := newEnv(t, envOpts{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseInt(r.URL.Query().Get("last_event_id"), 10, 64)
		req := live.Request{Tenant: e.tenant, Topic: live.Topic{Kind: live.KindTenant}, After: after, Resume: true}
		if err := e.hub.Serve(flushOnly{w}, r, req); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	missed := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "a"})
	c := openURL(t, srv.URL+"/events?last_event_id="+strconv.FormatInt(missed-1, 10))
	if ev := c.next(t); ev.ID != strconv.FormatInt(missed, 10) {
		t.Fatalf("replay: got %q, want %d", ev.ID, missed)
	}
	e.waitSubscribers(1)
	seq := emit(t, e.st, e.tenant, "forum.category.created", map[string]any{"slug": "b"})
	if ev := c.next(t); ev.ID != strconv.FormatInt(seq, 10) {
		t.Fatalf("live: got %q, want %d", ev.ID, seq)
	}
	c.close()
	e.waitSubscribers(0)
}
