package live

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"

	"fleetprompt/store"
)

// event is one signal rendered for one topic and audience, encoded once
// as an SSE frame that every subscriber it goes to shares read-only.
type event struct {
	seq   int64
	frame []byte
	// aside is the frame without its id, for streams that carry the
	// event's topic beside their own (Request.WithMe); nil for topics no
	// stream carries that way.
	aside []byte
}

func newEvent(seq int64, name string, html []byte) *event {
	ev := &sse.Event{ID: []byte(strconv.FormatInt(seq, 10)), Event: []byte(name), Data: html}
	return &event{seq: seq, frame: appendFrame(nil, ev)}
}

// newAsideEvent is newEvent with the aside frame too.
func newAsideEvent(seq int64, name string, html []byte) *event {
	ev := newEvent(seq, name, html)
	ev.aside = appendFrame(nil, &sse.Event{Event: []byte(name), Data: html})
	return ev
}

// heartbeatFrame is a comment line: it carries no id, so it moves no cursor.
var heartbeatFrame = appendFrame(nil, &sse.Event{Comment: []byte("keep-alive")})

// subscriber is one open event stream. Its writer goroutine (writer.go)
// writes the handshake, the replay and whatever is queued; while it is
// idle, whoever offers a frame writes it to the socket directly under
// mu, without waiting, and queues what the socket did not take.
type subscriber struct {
	hub       *Hub
	id        string // unique in the process; also its r3labs stream id
	key       string // streamKey of its topic
	meKey     string // streamKey of its person's "me" topic, when it carries it too (Request.WithMe)
	schema    string
	topic     Topic
	tenant    store.Tenant
	session   string // sha256 of the session token, hex ("" for none)
	userID    int64
	moderator bool

	// ctx ends with the stream (end cancels it): the replay's queries
	// stop with it.
	ctx    context.Context
	cancel context.CancelFunc
	// wake tells the writer that queue went from empty to not empty,
	// or that the stream has ended. It is signalled through the hub's
	// waker (waker.go) only; scheduled is set from then until the writer
	// has woken, so one wake-up at most is ever pending.
	wake      chan struct{}
	scheduled atomic.Bool
	exited    bool // the writer has returned (guarded by the waker's lock)

	lastWrite atomic.Int64 // unix nanos of the last write, for heartbeats
	// writing is when the write under way began (unix nanos), 0 between
	// writes: the watchdog cuts a stream whose write is blocked too long.
	writing atomic.Int64

	mu sync.Mutex
	// live: the replay is written; new events are queued for the writer.
	// Until then they wait in pending, up to PendingLimit.
	live    bool
	pending []*event
	queue   [][]byte // frames for the writer, oldest first
	// idle: the writer has found the queue empty and waits on wake, and
	// nothing is being written. Only then may a frame be written to fd
	// (the stream's socket, connSink.fd; -1 when it is not one) under mu;
	// the first frame the socket does not take whole is queued, idle ends
	// and the writer is woken. So one party writes at a time, in queue
	// order.
	idle bool
	fd   int
	// cursor is the seq of the last signal queued or replayed: an event
	// at or below it is a duplicate, and ephemeral events carry it as id.
	cursor int64
	ended  bool
	// abort makes a write blocked on the client fail at once (the
	// connection is closed, or its write deadline moved to the past);
	// set once the connection is known.
	abort func()
}

// sessionKey is how streams remember their session: a hash, so the token
// itself is not kept or sent between processes.
func sessionKey(token string) string {
	if token == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(token))
	return fmt.Sprintf("%x", sum)
}

func (h *Hub) newSubscriber(req Request) *subscriber {
	schema := req.Tenant.Schema()
	key := streamKey(schema, req.Topic)
	s := &subscriber{
		hub: h, key: key, schema: schema, topic: req.Topic, tenant: req.Tenant,
		id:      key + "#" + strconv.FormatUint(h.nextID.Add(1), 10),
		session: sessionKey(req.Session), userID: req.UserID, moderator: req.Moderator,
		cursor: req.After, wake: make(chan struct{}, 1), fd: -1,
	}
	if req.WithMe && req.UserID != 0 && req.Topic.Kind != KindMe {
		s.meKey = streamKey(schema, Topic{Kind: KindMe, Arg: strconv.FormatInt(req.UserID, 10)})
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.lastWrite.Store(time.Now().UnixNano())
	return s
}

// offerAside hands the subscriber events of a topic it carries beside its
// own (its person's "me"), as frames without ids: they move no cursor and
// are never replayed (the page fetches what they show when its stream
// opens). Before the replay is written they are dropped for that reason.
func (s *subscriber) offerAside(b *batch) (ok, wake bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || !s.live {
		return true, false
	}
	for _, ev := range b.evs {
		if ev.aside == nil {
			continue
		}
		ok, w := s.enqueueLocked(ev.aside)
		if !ok {
			return false, false
		}
		wake = wake || w
	}
	return true, wake
}

// offer hands a batch of a topic's events to the subscriber, never
// blocking. ok is false when the subscriber cannot keep up and must be
// cut; wake, that its writer must be woken (the caller batches those).
func (s *subscriber) offer(b *batch) (ok, wake bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return true, false
	}
	evs, joined := b.evs, b.joined
	if !s.live {
		if len(s.pending)+len(evs) > s.hub.cfg.PendingLimit {
			return false, false
		}
		s.pending = append(s.pending, evs...)
		return true, false
	}
	for len(evs) > 0 && evs[0].seq <= s.cursor {
		evs, joined = evs[1:], nil // the replay already sent it
	}
	if len(evs) == 0 {
		return true, false
	}
	s.cursor = evs[len(evs)-1].seq
	if joined != nil && s.idle && s.fd >= 0 {
		return s.writeJoinedLocked(evs, joined)
	}
	for _, ev := range evs {
		ok, w := s.enqueueLocked(ev.frame)
		if !ok {
			return false, false
		}
		wake = wake || w
	}
	return true, wake
}

// writeJoinedLocked writes several events to the idle stream in one
// write that does not wait, and queues, frame by frame, what the socket
// did not take. Called with s.mu held.
func (s *subscriber) writeJoinedLocked(evs []*event, joined []byte) (ok, wake bool) {
	n := s.writeNow(joined)
	if n == len(joined) {
		s.hub.stats.frames.Add(int64(len(evs)))
		s.hub.stats.coalescedWrites.Add(1)
		return true, false
	}
	for _, ev := range evs {
		if f := ev.frame; n >= len(f) {
			n -= len(f)
			s.hub.stats.frames.Add(1)
		} else {
			s.queue = append(s.queue, f[n:])
			n = 0
		}
	}
	s.idle = false
	return len(s.queue) <= s.hub.cfg.QueueSize, true
}

// enqueueLocked hands a frame to the stream. While the writer is idle
// the frame is written at once, without waiting, and whatever the socket
// did not take (all of it for a stream that is not a socket) is queued;
// wake then reports that the writer must be woken. ok is false when the
// queue is full. Called with s.mu held.
func (s *subscriber) enqueueLocked(frame []byte) (ok, wake bool) {
	if s.ended {
		return true, false
	}
	if s.idle && s.fd >= 0 {
		n := s.writeNow(frame)
		if n == len(frame) {
			s.hub.stats.frames.Add(1)
			return true, false
		}
		frame = frame[n:] // a frame split is counted once, by the write that ends it
	}
	if len(s.queue) >= s.hub.cfg.QueueSize {
		return false, false
	}
	s.queue = append(s.queue, frame)
	wake, s.idle = s.idle, false
	return true, wake
}

// writeNow writes b to the idle stream's socket without waiting and
// returns how much of it went; a connection that failed is left to the
// writer, which meets the error on its next write. Called with s.mu held.
func (s *subscriber) writeNow(b []byte) int {
	n, err := writeSome(s.fd, b)
	if err != nil || n <= 0 {
		return 0
	}
	s.hub.stats.writes.Add(1)
	s.lastWrite.Store(time.Now().UnixNano())
	return n
}

// push queues one frame and wakes the writer if needed; false means the
// queue is full.
func (s *subscriber) push(frame []byte) bool {
	s.mu.Lock()
	ok, wake := s.enqueueLocked(frame)
	s.mu.Unlock()
	if wake {
		s.hub.waker.wake(s)
	}
	return ok
}

// take hands the writer everything queued, swapping in the previous
// batch's slice so a steady stream allocates nothing; an empty batch
// means the writer is idle from now on. ended reports that the stream
// has ended instead.
func (s *subscriber) take(prev [][]byte) (batch [][]byte, ended bool) {
	clear(prev) // frames are shared: hold no reference longer than needed
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, true
	}
	if len(s.queue) == 0 {
		s.idle = true
		return prev[:0], false
	}
	batch = s.queue
	s.queue = prev[:0]
	return batch, false
}

// beat queues a keep-alive comment if nothing was written since
// idleSince and nothing waits to be (so the queue has room for it).
func (s *subscriber) beat(idleSince int64) {
	if s.lastWrite.Load() > idleSince {
		return
	}
	s.mu.Lock()
	idle := !s.ended && s.live && len(s.queue) == 0
	s.mu.Unlock()
	if idle {
		s.push(heartbeatFrame)
	}
}

// goLive ends the replay, which sent everything up to replayed: the
// events that arrived meanwhile and are newer are queued (the writer,
// which calls goLive, writes them next), and from now on offer queues
// directly.
func (s *subscriber) goLive(replayed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor = max(s.cursor, replayed)
	for _, ev := range s.pending {
		if ev.seq > s.cursor {
			s.cursor = ev.seq
			s.queue = append(s.queue, ev.frame)
		}
	}
	s.pending = nil
	s.live = true
}

// cut ends a stream whose client could not keep up, and counts it.
func (s *subscriber) cut(reason string) {
	if s.stop() {
		s.hub.stats.cut.Add(1)
		s.hub.log.Info("live stream cut; the client resumes from its last event id", "reason", reason, "topic", s.key)
	}
}

// end ends the stream for another reason (sign-out, shutdown, the
// listener reconnecting): the browser reconnects and resumes.
func (s *subscriber) end(reason string) {
	if s.stop() {
		s.hub.stats.ended.Add(1)
		s.hub.log.Debug("live stream ended", "reason", reason, "topic", s.key)
	}
}

// gone ends the stream because the client left; nothing to count.
func (s *subscriber) gone() { s.stop() }

// stop marks the stream ended and releases its writer, even from a
// write blocked on the client. It reports whether this call ended it.
func (s *subscriber) stop() bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	s.ended = true
	s.pending, s.queue = nil, nil
	abort := s.abort
	s.mu.Unlock()
	s.cancel()
	s.hub.waker.wake(s) // a sleeping writer sees it has ended
	if abort != nil {
		abort()
	}
	return true
}

// setAbort records how to abort the stream's writes. It reports false,
// having aborted at once, when the stream has already ended.
func (s *subscriber) setAbort(abort func()) bool {
	s.mu.Lock()
	s.abort = abort
	ended := s.ended
	s.mu.Unlock()
	if ended {
		abort()
	}
	return !ended
}
