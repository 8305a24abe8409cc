// Package live pushes tenant signals to open pages over Server-Sent
// Events. One LISTEN connection per process learns of every committed
// signal; the hub loads it, renders an HTML fragment per topic it belongs
// to, and fans it out to the subscribers of those topics.
//
// Each stream has one writer goroutine (writer.go) for everything that
// may wait: the handshake, the replay, and whatever is queued. The
// fan-out never waits: to a stream whose writer is idle (nothing queued,
// nothing being written) it writes the event's pre-encoded frame itself,
// under the subscriber's lock, in a write that does not wait; only what
// the socket does not take is queued, and the writer woken (through the
// waker, which keeps the run queues short: waker.go) to send it, and
// anything queued behind it, in one write. So one party writes at a
// time, and a healthy stream costs the fan-out a write(2) per event
// rather than a goroutine wake-up and a write. A subscriber whose queue
// overflows, or whose write stays blocked past WriteTimeout, is cut and
// counted (Stats); its client reconnects with Last-Event-ID and the
// replay from the signals table gives it everything it missed.
//
// r3labs/sse v2.10.0 answers each stream's handshake (handshake.go). Its
// fan-out is not used, for the traps it has:
//
//   - A stream's goroutine blocks on any subscriber whose 64-slot channel
//     is full, and then Publish blocks: one stalled client stalls
//     everybody.
//   - AutoReplay (on by default) keeps every event forever and replays it
//     all to each new subscriber: off; resume comes from the signals table.
//   - An event with empty data ends the client's loop: data is never
//     empty (an event with neither data nor comment is how the handshake
//     makes ServeHTTP return).
//   - RemoveStream and Close leave each subscriber's context watcher
//     blocked forever on an unbuffered channel. A stream is removed only
//     after its one subscriber has deregistered (OnUnsubscribe tells us).
package live

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"

	"fleetprompt/store"
	"fleetprompt/views"
)

// Config tunes the hub. Zero values take the defaults.
type Config struct {
	// Channel is the NOTIFY channel signals are announced on, with the
	// payload "<schema>:<seq>" (default "fp_signals").
	Channel string
	// ControlChannel carries "end this session's streams" between
	// processes (default "fp_live").
	ControlChannel string
	// Heartbeat is how long a stream may stay silent before a comment
	// line is sent to keep proxies and browsers from closing it
	// (default 15 s).
	Heartbeat time.Duration
	// QueueSize is how many frames may wait for a subscriber's writer
	// before the subscriber counts as stalled and is cut (default 64).
	// Frames are shared between subscribers: a queue holds references.
	QueueSize int
	// WriteTimeout cuts a client whose write has been blocked this long
	// (default 30 s).
	WriteTimeout time.Duration
	// SendBuffer is how many bytes the kernel may hold for a stream's
	// client (SO_SNDBUF, default 64 KiB; the kernel doubles it). Left to
	// itself the kernel grows it to megabytes for a client that stopped
	// reading, so a backlog would sit unseen in kernel memory; capped,
	// it reaches the stream's queue and the client is cut and counted.
	SendBuffer int
	// PendingLimit bounds the live events held for a subscriber while it
	// replays from the database (default 1024).
	PendingLimit int
	// ReplayLimit bounds how many signals one resume may scan; a client
	// further behind is told to reload (default 20,000).
	ReplayLimit int
	// Revalidate is how often open streams' sessions and memberships are
	// checked again, so a session ended or a member disabled elsewhere
	// loses its streams even if a notification was missed (default 1 min).
	Revalidate time.Duration
	// CatchUpTimeout cuts a client whose replay takes longer (default 30 s).
	CatchUpTimeout time.Duration
	// MaxStreams caps the streams open in this process (default 10,000):
	// each holds a file descriptor, and running out of them stops the
	// server accepting anyone. Serve refuses more with ErrTooManyStreams.
	MaxStreams int
	// MaxSessionStreams caps one session's streams in this process
	// (default 16, SPEC §17: a page has one or two; sixteen tabs are
	// plenty). Serve refuses more with ErrSessionStreams.
	MaxSessionStreams int
	Logger            *slog.Logger
}

func (c *Config) defaults() {
	if c.Channel == "" {
		c.Channel = "fp_signals"
	}
	if c.ControlChannel == "" {
		c.ControlChannel = store.ControlChannel
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 64
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = 64 << 10
	}
	if c.PendingLimit <= 0 {
		c.PendingLimit = 1024
	}
	if c.ReplayLimit <= 0 {
		c.ReplayLimit = 20000
	}
	if c.Revalidate <= 0 {
		c.Revalidate = time.Minute
	}
	if c.CatchUpTimeout <= 0 {
		c.CatchUpTimeout = 30 * time.Second
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = 10000
	}
	if c.MaxSessionStreams <= 0 {
		c.MaxSessionStreams = 16
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Errors Serve returns before anything is written: the caller answers
// with a status of its own (503, 429).
var (
	// ErrClosed: the hub is shutting down (or the stream was ended, by a
	// sign-out say, before it started).
	ErrClosed = errors.New("live: hub closed")
	// ErrUnavailable wraps the database error that kept a stream from
	// starting (its replay could not be read).
	ErrUnavailable = errors.New("live: database unavailable")
	// ErrTooManyStreams: the process holds Config.MaxStreams streams.
	ErrTooManyStreams = errors.New("live: too many streams in this process")
	// ErrSessionStreams: the session holds Config.MaxSessionStreams streams.
	ErrSessionStreams = errors.New("live: too many streams for this session")
)

// Hub fans signals out to event streams.
type Hub struct {
	cfg   Config
	store *store.Store
	dsn   string
	views *views.Renderer
	log   *slog.Logger
	sse   *sse.Server

	mu       sync.RWMutex
	topics   map[string]map[*subscriber]struct{} // streamKey → subscribers
	schemas  map[string]int                      // tenant schema → subscribers, to skip unwatched tenants
	sessions map[string]int                      // session key → subscribers (MaxSessionStreams)
	open     int
	closed   bool
	serving  sync.WaitGroup

	streamsMu sync.Mutex
	streams   map[string]chan struct{} // r3labs stream id → closed when its handshake subscriber deregisters

	renderMu  sync.RWMutex
	renderers map[string]RenderFunc // signal name, or prefix ending in "."

	orgMu  sync.Mutex
	orgIDs map[string]int64 // schema → organization id

	ephemerals sync.Map // streamKey → *Ephemeral being sent (ephemeral.go)

	waker     *waker   // waker.go
	stats     counters // stats.go
	nextID    atomic.Uint64
	cancelRun context.CancelFunc
	running   sync.WaitGroup

	// processed is called after each batch of notifications has been
	// fanned out (tests wait on it instead of sleeping).
	processed func(schema string, seq int64)

	obsMu     sync.Mutex
	observers []Observer // observe.go
}

// NewHub builds a hub over the store's database. dsn is the same
// database's connection string, for the LISTEN connection.
func NewHub(st *store.Store, dsn string, rend *views.Renderer, cfg Config) *Hub {
	cfg.defaults()
	h := &Hub{
		cfg: cfg, store: st, dsn: dsn, views: rend, log: cfg.Logger,
		topics:    map[string]map[*subscriber]struct{}{},
		schemas:   map[string]int{},
		sessions:  map[string]int{},
		streams:   map[string]chan struct{}{},
		renderers: map[string]RenderFunc{},
		orgIDs:    map[string]int64{},
		waker:     newWaker(),
	}
	s := sse.New()
	s.AutoReplay = false // resume comes from the database
	s.AutoStream = false // only the hub creates streams
	s.Headers = map[string]string{"X-Accel-Buffering": "no"}
	s.OnUnsubscribe = h.unsubscribed
	h.sse = s
	return h
}

// SetProcessedHook registers fn, called after each signal has been
// fanned out. For tests.
func (h *Hub) SetProcessedHook(fn func(schema string, seq int64)) { h.processed = fn }

// add registers a subscriber before anything is read for it, within the
// caps: from here on every signal committed reaches it.
func (h *Hub) add(s *subscriber) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return ErrClosed
	case h.open >= h.cfg.MaxStreams:
		h.stats.refused.Add(1)
		return ErrTooManyStreams
	case s.session != "" && h.sessions[s.session] >= h.cfg.MaxSessionStreams:
		h.stats.refused.Add(1)
		return ErrSessionStreams
	}
	for _, key := range s.keys() {
		set := h.topics[key]
		if set == nil {
			set = map[*subscriber]struct{}{}
			h.topics[key] = set
		}
		set[s] = struct{}{}
	}
	h.schemas[s.schema]++
	if s.session != "" {
		h.sessions[s.session]++
	}
	h.open++
	h.serving.Add(1)
	return nil
}

// keys are the fan-out sets s is in: its topic's, and its person's "me"
// when it carries that too.
func (s *subscriber) keys() []string {
	if s.meKey == "" {
		return []string{s.key}
	}
	return []string{s.key, s.meKey}
}

// remove deregisters s; the stream no longer counts against the caps.
func (h *Hub) remove(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, key := range s.keys() {
		if set := h.topics[key]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(h.topics, key)
			}
		}
	}
	if h.schemas[s.schema]--; h.schemas[s.schema] <= 0 {
		delete(h.schemas, s.schema)
	}
	if s.session != "" {
		if h.sessions[s.session]--; h.sessions[s.session] <= 0 {
			delete(h.sessions, s.session)
		}
	}
	h.open--
	h.serving.Done()
}

// watched reports whether anyone in this process follows a topic of schema.
func (h *Hub) watched(schema string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.schemas[schema] > 0
}

// hasSubscribers reports whether a topic has subscribers here.
func (h *Hub) hasSubscribers(key string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.topics[key]) > 0
}

// deliver hands a topic's events (in seq order: one signal's, or a
// batch's when signals came faster than they were fanned out) to every
// subscriber of key without ever waiting on one: an idle stream's socket
// gets them at once, in one write that does not wait; a busy one's queue
// an append; and the writers that sleep with something queued are woken
// (through the waker, in turn). A subscriber whose queue is full is cut.
// A large topic is shared out between the processors, so an event
// reaches its last subscriber sooner. Events reach each subscriber in the
// order deliver is called.
func (h *Hub) deliver(key string, rs []rendered) {
	subs := subsPool.Get().(*[]*subscriber)
	h.mu.RLock()
	for s := range h.topics[key] {
		*subs = append(*subs, s)
	}
	h.mu.RUnlock()
	member, moderator := newBatches(rs)
	all := *subs
	parts := min(runtime.GOMAXPROCS(0), len(all)/minDeliverPart)
	if parts <= 1 {
		h.offerAll(key, all, member, moderator)
	} else {
		var wg sync.WaitGroup
		size := (len(all) + parts - 1) / parts
		for rest := all[size:]; len(rest) > 0; rest = rest[min(size, len(rest)):] {
			part := rest[:min(size, len(rest))]
			wg.Go(func() { h.offerAll(key, part, member, moderator) })
		}
		h.offerAll(key, all[:size], member, moderator)
		wg.Wait()
	}
	clear(all)
	*subs = all[:0]
	subsPool.Put(subs)
}

// minDeliverPart is the fewest subscribers worth a goroutine of their own
// in a fan-out: below it, starting one costs more than it saves.
const minDeliverPart = 256

// yieldEvery is how many streams a fan-out writes to (≈ 2 ms) before it
// lets other goroutines run.
const yieldEvery = 256

var subsPool = sync.Pool{New: func() any { return new([]*subscriber) }}

// batch is the events one fan-out brings an audience, oldest first.
// joined is their frames back to back when there are several: an idle
// stream gets them in one write, and every stream shares the bytes.
type batch struct {
	evs    []*event
	joined []byte
}

func newBatch(evs []*event) *batch {
	b := &batch{evs: evs}
	if len(evs) > 1 {
		for _, ev := range evs {
			b.joined = append(b.joined, ev.frame...)
		}
	}
	return b
}

// newBatches splits rs by audience; the two are one batch when every
// event is the same for both.
func newBatches(rs []rendered) (member, moderator *batch) {
	mem, mod := make([]*event, len(rs)), make([]*event, len(rs))
	same := true
	for i, r := range rs {
		mem[i], mod[i] = r.member, r.moderator
		same = same && r.member == r.moderator
	}
	member = newBatch(mem)
	if same {
		return member, member
	}
	return member, newBatch(mod)
}

// offerAll offers subs their audience's batch, one after the other, then
// wakes the writers that need it and cuts the subscribers that could not
// keep up.
func (h *Hub) offerAll(key string, subs []*subscriber, member, moderator *batch) {
	var slow []*subscriber
	wake := wakePool.Get().(*[]*subscriber)
	for i, s := range subs {
		if i > 0 && i%yieldEvery == 0 {
			// A fan-out keeps a processor busy for tens of
			// milliseconds: let the requests and database replies
			// queued behind it run (the next signal's commit is one).
			runtime.Gosched()
		}
		b := member
		if s.moderator {
			b = moderator
		}
		offer := s.offer
		if s.key != key {
			offer = s.offerAside // a topic it carries beside its own
		}
		ok, w := offer(b)
		if !ok {
			slow = append(slow, s)
		} else if w {
			*wake = append(*wake, s)
		}
	}
	h.waker.wakeAll(*wake)
	clear(*wake)
	*wake = (*wake)[:0]
	wakePool.Put(wake)
	for _, s := range slow {
		s.cut("queue full")
	}
}

var wakePool = sync.Pool{New: func() any { return new([]*subscriber) }}

// each calls fn for every subscriber (under the read lock: fn must not block).
func (h *Hub) each(fn func(s *subscriber)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for key, set := range h.topics {
		for s := range set {
			if s.key == key { // once each, not again for a topic it carries beside
				fn(s)
			}
		}
	}
}

// endWhere ends the streams match selects; their clients reconnect and
// resume. It returns how many it ended.
func (h *Hub) endWhere(reason string, match func(s *subscriber) bool) int {
	var hit []*subscriber
	h.each(func(s *subscriber) {
		if match(s) {
			hit = append(hit, s)
		}
	})
	for _, s := range hit {
		s.end(reason)
	}
	return len(hit)
}

// Subscribers counts open streams in this process.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.open
}

// Close ends every stream and waits for them to finish, then stops the
// listener. Call it after the HTTP server stopped accepting requests.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.endWhere("shutting down", func(*subscriber) bool { return true })
	h.serving.Wait()
	if h.cancelRun != nil {
		h.cancelRun()
	}
	h.running.Wait()
	// Every stream is gone by now, so Close strands no goroutine.
	h.sse.Close()
}
