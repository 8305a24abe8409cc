package live

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"

	"fleetprompt/store"
)

// Request is one checked subscription: the handler has made sure the
// topic belongs to the caller's current organization.
type Request struct {
	Tenant store.Tenant
	Topic  Topic
	// After is the last seq the page has; with Resume set, the signals
	// after it are replayed from the database before going live.
	After  int64
	Resume bool
	// Session is the caller's session token: ending the session (sign-out)
	// ends its streams. UserID and OrgID identify the membership, so a
	// disabled member's streams end too.
	Session string
	UserID  int64
	// Moderator (owner or admin) streams get the moderators' variant of
	// fragments (e.g. posts with their moderation forms).
	Moderator bool
}

// event is one signal rendered for one topic. The *sse.Event is shared
// read-only by every subscriber it goes to.
type event struct {
	seq int64
	sse *sse.Event
}

func newEvent(seq int64, name string, html []byte) *event {
	return &event{seq: seq, sse: &sse.Event{ID: []byte(strconv.FormatInt(seq, 10)), Event: []byte(name), Data: html}}
}

// heartbeat is a comment line: it carries no id, so it moves no cursor.
var heartbeat = &sse.Event{Comment: []byte("keep-alive")}

// subscriber is one open event stream. It owns a private r3labs stream
// with exactly one r3labs subscriber, so nobody else waits for it.
type subscriber struct {
	hub       *Hub
	id        string // r3labs stream id, made by the server
	key       string // streamKey of its topic
	schema    string
	topic     Topic
	tenant    store.Tenant
	session   string // sha256 of the session token, hex
	userID    int64
	moderator bool
	// setWriteDeadline is the connection's: a deadline in the past makes
	// a write stuck on a client that stopped reading fail at once.
	setWriteDeadline func(time.Time) error
	cancel           context.CancelFunc
	gone             chan struct{} // closed when r3labs has deregistered it

	lastActive atomic.Int64 // unix nanos of the last event handed over

	mu       sync.Mutex
	live     bool     // replay done: new events go straight to the stream
	pending  []*event // live events that arrived during the replay
	overflow bool
	lastSent int64
	kicked   bool
	done     bool // Serve returned: the response must not be touched
}

// sessionKey is how streams remember their session: a hash, so the token
// itself is not kept or sent between processes.
func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return fmt.Sprintf("%x", sum)
}

// offer hands a live event to the subscriber, never blocking. It returns
// false when the subscriber cannot keep up and must be dropped.
func (s *subscriber) offer(ev *event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.kicked {
		return true
	}
	if !s.live {
		if len(s.pending) >= s.hub.cfg.PendingLimit {
			s.overflow = true
			return false
		}
		s.pending = append(s.pending, ev)
		return true
	}
	if ev.seq <= s.lastSent {
		return true // the replay already sent it
	}
	if !s.hub.sse.TryPublish(s.id, ev.sse) {
		return false
	}
	s.lastSent = ev.seq
	s.lastActive.Store(time.Now().UnixNano())
	return true
}

// beat sends a keep-alive comment if the stream has been idle.
func (s *subscriber) beat(idleSince int64) bool {
	if s.lastActive.Load() > idleSince {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.kicked || !s.live {
		return true
	}
	if !s.hub.sse.TryPublish(s.id, heartbeat) {
		return false
	}
	s.lastActive.Store(time.Now().UnixNano())
	return true
}

// kick disconnects the client: its context ends, and a write stuck on a
// client that stopped reading fails at once. The browser reconnects and
// resumes from the database.
func (s *subscriber) kick(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.kicked {
		return
	}
	s.kicked = true
	s.cancel()
	s.setWriteDeadline(time.Now())
	s.hub.log.Debug("live stream dropped", "reason", reason, "topic", s.key)
}

// Serve streams the request's topic until the client goes away, the
// session ends or the hub closes. Call it from a handler that has checked
// the topic against the caller's organization.
//
// On HTTP/1.1 the connection is taken over (hijacked) and streamed from a
// small goroutine of the hub's, so the request's goroutine (with the deep
// stack of the middleware chain), its buffers and its context are freed:
// an open stream costs a fraction of an open request. Elsewhere (HTTP/2,
// test recorders) the stream is served in the request itself.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, req Request) error {
	rc := http.NewResponseController(w)
	if err := clearWriteDeadline(rc); err != nil {
		return fmt.Errorf("clear write deadline: %w", err)
	}
	schema := req.Tenant.Schema()
	key := streamKey(schema, req.Topic)
	s := &subscriber{
		hub: h, key: key, schema: schema, topic: req.Topic, tenant: req.Tenant,
		id:      key + "#" + strconv.FormatUint(h.nextID.Add(1), 10),
		session: sessionKey(req.Session), userID: req.UserID, moderator: req.Moderator,
		gone: make(chan struct{}),
	}
	s.lastActive.Store(time.Now().UnixNano())
	// Registered before anything is read from the database: every signal
	// committed from now on reaches this subscriber, as pending until the
	// replay is done.
	if !h.add(s) {
		return ErrClosed
	}
	h.sse.CreateStream(s.id)
	stream := &http.Request{Method: http.MethodGet, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		URL: &url.URL{Path: r.URL.Path, RawQuery: "stream=" + url.QueryEscape(s.id)}, Header: http.Header{}}

	if conn, _, err := rc.Hijack(); err == nil {
		// The request is over for net/http (and its context is canceled
		// when the handler returns), so the stream gets its own.
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel, s.setWriteDeadline = cancel, conn.SetWriteDeadline
		go func() {
			// The client never sends anything on a stream: a read returns
			// only when it has gone.
			var b [1]byte
			for {
				if _, err := conn.Read(b[:]); err != nil {
					cancel()
					return
				}
			}
		}()
		go func() {
			defer conn.Close()
			h.stream(ctx, s, &connWriter{conn: conn, header: http.Header{}, fail: cancel}, stream.WithContext(ctx), req)
		}()
		return nil
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s.cancel, s.setWriteDeadline = cancel, rc.SetWriteDeadline
	h.stream(ctx, s, w, stream.WithContext(ctx), req)
	return nil
}

// stream runs r3labs' ServeHTTP for s and cleans up after it, in an order
// that strands no goroutine.
func (h *Hub) stream(ctx context.Context, s *subscriber, w http.ResponseWriter, r *http.Request, req Request) {
	defer h.serving.Done()
	caughtUp := make(chan struct{})
	var registered bool
	sw := &streamWriter{ResponseWriter: w, ready: func() {
		// r3labs answers 200 only after its subscriber is registered on
		// the stream: from here on published events reach the client.
		registered = true
		go s.catchUp(ctx, req, caughtUp)
	}}
	h.sse.ServeHTTP(sw, r)

	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	h.remove(s)
	s.cancel()
	if registered {
		<-s.gone // r3labs' watcher has deregistered: removing the stream strands nothing
	} else {
		h.mu.Lock()
		delete(h.streams, s.id)
		h.mu.Unlock()
	}
	h.sse.RemoveStream(s.id)
	if registered {
		<-caughtUp
	}
}

// catchUp replays from the database what the client missed, then hands
// over to live delivery with no gap and no duplicate: live events that
// arrived meanwhile were kept as pending, and anything at or below the
// last seq sent is skipped.
func (s *subscriber) catchUp(ctx context.Context, req Request, done chan struct{}) {
	defer close(done)
	timer := time.AfterFunc(s.hub.cfg.CatchUpTimeout, func() { s.kick("replay too slow") })
	defer timer.Stop()
	last := req.After
	send := func(ev *event) {
		// Blocking is fine here: this goroutine serves this client only,
		// and a kick or the stream's removal releases it.
		s.hub.sse.Publish(s.id, ev.sse)
		last = ev.seq
	}
	if req.Resume {
		if err := s.hub.replay(ctx, s.tenant, s.topic, req.After, s.moderator, func(ev *event) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			send(ev)
			return nil
		}); err != nil {
			if ctx.Err() == nil {
				s.hub.log.Error("live replay", "topic", s.key, "after", req.After, "err", err)
				s.kick("replay failed")
			}
			return
		}
	}
	for {
		s.mu.Lock()
		batch := s.pending
		s.pending = nil
		if s.overflow {
			s.mu.Unlock()
			s.kick("too much arrived during replay")
			return
		}
		if len(batch) == 0 {
			s.live = true
			if last > s.lastSent {
				s.lastSent = last
			}
			s.mu.Unlock()
			s.lastActive.Store(time.Now().UnixNano())
			s.hub.greet(s) // ephemeral events under way: their catch-up
			return
		}
		s.mu.Unlock()
		for _, ev := range batch {
			if ctx.Err() != nil {
				return
			}
			if ev.seq > last {
				send(ev)
			}
		}
	}
}

// streamWriter lets Serve know when r3labs has registered its subscriber
// (it answers 200 right after), and keeps Flush and Unwrap working.
type streamWriter struct {
	http.ResponseWriter
	once  sync.Once
	ready func()
}

func (w *streamWriter) WriteHeader(code int) {
	w.ResponseWriter.WriteHeader(code)
	if code == http.StatusOK {
		w.once.Do(w.ready)
	}
}

func (w *streamWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// connWriter is the ResponseWriter of a hijacked stream: the response is
// delimited by closing the connection (no chunking), and an event is
// assembled in a pooled buffer and written at Flush, so an idle stream
// holds no buffer at all.
type connWriter struct {
	conn   net.Conn
	header http.Header
	buf    *[]byte
	fail   func() // the connection broke: end the stream
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func (w *connWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *connWriter) WriteHeader(code int) {
	w.header.Set("Connection", "close")
	w.header.Del("Content-Length")
	b := w.take()
	*b = fmt.Appendf(*b, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	bw := bytesWriter{b}
	w.header.Write(bw)
	*b = append(*b, "\r\n"...)
	w.header = nil // written; an idle stream keeps nothing
}

func (w *connWriter) Write(p []byte) (int, error) {
	b := w.take()
	*b = append(*b, p...)
	return len(p), nil
}

func (w *connWriter) Flush() {
	if w.buf == nil {
		return
	}
	_, err := w.conn.Write(*w.buf)
	*w.buf = (*w.buf)[:0]
	if cap(*w.buf) <= 64<<10 {
		bufPool.Put(w.buf)
	}
	w.buf = nil
	if err != nil {
		w.fail()
	}
}

func (w *connWriter) take() *[]byte {
	if w.buf == nil {
		w.buf = bufPool.Get().(*[]byte)
	}
	return w.buf
}

type bytesWriter struct{ b *[]byte }

func (w bytesWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}
