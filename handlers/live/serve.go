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
	"syscall"
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

// event is one signal rendered for one topic. The *sse.Event (for
// r3labs) and its encoded frame (for streams the hub writes itself) are
// shared read-only by every subscriber it goes to.
type event struct {
	seq   int64
	sse   *sse.Event
	frame []byte
}

func newEvent(seq int64, name string, html []byte) *event {
	ev := &sse.Event{ID: []byte(strconv.FormatInt(seq, 10)), Event: []byte(name), Data: html}
	return &event{seq: seq, sse: ev, frame: appendFrame(nil, ev)}
}

// heartbeat is a comment line: it carries no id, so it moves no cursor.
var (
	heartbeat      = &sse.Event{Comment: []byte("keep-alive")}
	heartbeatFrame = appendFrame(nil, heartbeat)
)

// phase is where a subscriber's events go.
type phase uint8

const (
	// replaying: the database replay runs through r3labs; live events
	// wait in pending.
	replaying phase = iota
	// viaR3labs: live events go through the private r3labs stream (a
	// response that could not be taken over: HTTP/2, test recorders).
	viaR3labs
	// handingOver: r3labs is writing the last replayed events; live
	// frames queue until its goroutine has finished and flushed them.
	handingOver
	// direct: the hub writes frames to the socket itself, from the
	// goroutine that fans the event out, without waiting: a frame the
	// socket does not take at once is queued for a flusher goroutine.
	direct
)

// subscriber is one open event stream. It owns a private r3labs stream
// with exactly one r3labs subscriber, so nobody else waits for it; on a
// taken-over connection r3labs serves the handshake and the replay, then
// hands the socket to the hub.
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

	// conn is the taken-over connection (nil when the response was not
	// hijacked) and fd its socket, which live frames are sent to directly
	// (writeNow). conn is closed only with mu held and kicked or done set,
	// and sends check both with mu held, so a send never meets a closed
	// (or reused) descriptor.
	conn net.Conn
	fd   int
	// refs counts the goroutines using conn (reader, r3labs' server);
	// the last one to finish closes it.
	refs atomic.Int32

	lastActive atomic.Int64 // unix nanos of the last event handed over

	mu       sync.Mutex
	phase    phase
	live     bool     // replay done: new events are sent, not kept pending
	pending  []*event // live events that arrived during the replay
	overflow bool
	queue    [][]byte // frames waiting for the socket (a flusher owns it)
	flushing bool     // a goroutine other than the fan-out writes to the socket
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
func (s *subscriber) offer(ev *event, now int64) bool {
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
	if !s.sendLocked(ev.sse, ev.frame, now) {
		return false
	}
	s.lastSent = ev.seq
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
	return s.sendLocked(heartbeat, heartbeatFrame, time.Now().UnixNano())
}

// sendLocked sends a live event (frame is ev encoded, or nil to encode it
// here if needed) without ever waiting on the client. False means the
// client is too slow (or gone) and must be dropped. Called with s.mu held.
func (s *subscriber) sendLocked(ev *sse.Event, frame []byte, now int64) bool {
	if s.phase == viaR3labs {
		if !s.hub.sse.TryPublish(s.id, ev) {
			return false
		}
		s.lastActive.Store(now)
		return true
	}
	if frame == nil {
		frame = appendFrame(nil, ev)
	}
	if s.phase == direct && !s.flushing {
		n, ok := s.writeNow(frame)
		if !ok {
			return false
		}
		s.lastActive.Store(now)
		if n == len(frame) {
			return true
		}
		// The socket's buffer is full: the rest waits for a flusher.
		s.queue = append(s.queue, frame[n:])
		s.flushing = true
		go s.flush()
		return true
	}
	if len(s.queue) >= s.hub.cfg.QueueSize {
		return false
	}
	s.queue = append(s.queue, frame)
	s.lastActive.Store(now)
	return true
}

// writeNow writes as much of frame as the socket takes right now, with
// one send that never waits (sendNow, per platform). ok is false when the
// connection is broken. Called with s.mu held (see conn).
func (s *subscriber) writeNow(frame []byte) (n int, ok bool) { return sendNow(s.fd, frame) }

// flush writes the queued frames, waiting for the socket as long as
// WriteTimeout, then gives the socket back to direct writes. It runs on
// its own goroutine for a client that fell behind, and on r3labs' stream
// goroutine when the replay hands over.
func (s *subscriber) flush() {
	for {
		s.mu.Lock()
		q := s.queue
		s.queue = nil
		if s.kicked || s.done {
			s.mu.Unlock()
			return
		}
		if len(q) == 0 {
			s.flushing = false
			s.phase = direct
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.conn.SetWriteDeadline(time.Now().Add(s.hub.cfg.WriteTimeout))
		for _, f := range q {
			if _, err := s.conn.Write(f); err != nil {
				s.kick("write failed or timed out")
				return
			}
		}
		// A deadline left set would fail the next direct write.
		s.conn.SetWriteDeadline(time.Time{})
	}
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
	if s.conn != nil {
		s.conn.Close()
	} else {
		s.setWriteDeadline(time.Now())
	}
	s.hub.log.Debug("live stream dropped", "reason", reason, "topic", s.key)
}

// release is called by each goroutine using a taken-over connection when
// it is finished with it; the last one ends the stream.
func (s *subscriber) release() {
	if s.refs.Add(-1) > 0 {
		return
	}
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.cancel()
	s.conn.Close()
	s.hub.remove(s)
	s.hub.serving.Done()
}

// Serve streams the request's topic until the client goes away, the
// session ends or the hub closes. Call it from a handler that has checked
// the topic against the caller's organization.
//
// On HTTP/1.1 the connection is taken over (hijacked): the request's
// goroutine (with the deep stack of the middleware chain), its buffers
// and its context are freed. r3labs answers the handshake and sends the
// replay from a goroutine of the hub's; once the stream is live that
// goroutine ends too, and the hub writes each live event's frame to the
// socket itself from the goroutines that fan it out. An open, idle stream
// then costs one small goroutine (waiting for the client to leave) and a
// few hundred bytes. Elsewhere (HTTP/2, test recorders) the whole stream
// is served by r3labs in the request itself.
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
	stream := &http.Request{Method: http.MethodGet, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		URL: &url.URL{Path: r.URL.Path, RawQuery: "stream=" + url.QueryEscape(s.id)}, Header: http.Header{}}

	if conn, _, err := rc.Hijack(); err == nil {
		fd := -1
		if sc, ok := conn.(syscall.Conn); ok {
			if raw, err := sc.SyscallConn(); err == nil {
				raw.Control(func(d uintptr) { fd = int(d) })
			}
		}
		if fd < 0 {
			conn.Close()
			return fmt.Errorf("live: connection %T has no file descriptor", conn)
		}
		// The request is over for net/http (and its context is canceled
		// when the handler returns), so the stream gets its own.
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel, s.setWriteDeadline = cancel, conn.SetWriteDeadline
		s.conn, s.fd = conn, fd
		// Registered before anything is read from the database: every
		// signal committed from now on reaches this subscriber, as pending
		// until the replay is done.
		if !h.add(s) {
			// Shutting down: the client reconnects to another instance or
			// when this one is back.
			cancel()
			conn.Close()
			return nil
		}
		h.sse.CreateStream(s.id)
		s.refs.Store(2)
		go func() {
			defer s.release()
			// The client never sends anything on a stream: a read returns
			// only when it has gone (or the hub closed the connection).
			var b [1]byte
			for {
				if _, err := conn.Read(b[:]); err != nil {
					s.kick("client gone")
					return
				}
			}
		}()
		go func() {
			defer s.release()
			w := &connWriter{conn: conn, header: http.Header{}, fail: func() { s.kick("connection broken") }}
			h.stream(ctx, s, w, stream.WithContext(ctx), req)
		}()
		return nil
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s.cancel, s.setWriteDeadline = cancel, rc.SetWriteDeadline // before a kick can find it
	if !h.add(s) {
		return ErrClosed
	}
	h.sse.CreateStream(s.id)
	h.stream(ctx, s, w, stream.WithContext(ctx), req)
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	h.remove(s)
	h.serving.Done()
	return nil
}

// stream runs r3labs' ServeHTTP for s and cleans up after it, in an order
// that strands no goroutine. On a taken-over connection it returns once
// the replay is written and the socket handed to the hub.
func (h *Hub) stream(ctx context.Context, s *subscriber, w http.ResponseWriter, r *http.Request, req Request) {
	caughtUp := make(chan struct{})
	var registered bool
	sw := &streamWriter{ResponseWriter: w, ready: func() {
		// r3labs answers 200 only after its subscriber is registered on
		// the stream: from here on published events reach the client.
		registered = true
		go s.catchUp(ctx, req, caughtUp)
	}}
	// r3labs' request context ends its part: at the hand-over, or with
	// the stream.
	rctx, rcancel := context.WithCancel(ctx)
	h.sse.ServeHTTP(sw, r.WithContext(rctx))

	s.mu.Lock()
	handOver := s.phase == handingOver && !s.kicked && !s.done
	s.mu.Unlock()
	switch {
	case handOver:
		// r3labs has written the replay and returned at endOfR3labs: the
		// live frames queued meanwhile go out, then the hub writes
		// directly.
		s.flush()
	case s.conn != nil:
		s.kick("stream ended") // the connection closes; the reader goroutine ends
	default:
		s.mu.Lock()
		s.done = true // the response is the request's: it must not be touched any more
		s.mu.Unlock()
		s.cancel()
	}
	rcancel()
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
			handOver := s.conn != nil && directSends
			if handOver {
				// From now on live frames queue for the hand-over.
				s.phase, s.flushing = handingOver, true
			} else {
				s.phase = viaR3labs
			}
			s.mu.Unlock()
			if handOver {
				// r3labs writes what it holds, then returns.
				s.hub.sse.Publish(s.id, endOfR3labs)
			}
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
