// Package live pushes tenant signals to open pages over Server-Sent
// Events. One LISTEN connection per process learns of every committed
// signal; the hub loads it, renders an HTML fragment per topic it belongs
// to, and fans it out to the subscribers of those topics.
//
// r3labs/sse v2.10.0 answers each stream's handshake and sends its
// replay, but its fan-out has traps this package is built around:
//
//   - A stream's goroutine blocks on any subscriber whose 64-slot channel
//     is full, and then Publish blocks: one stalled client stalls
//     everybody. So every subscriber gets its own private r3labs stream,
//     fed without waiting, for the replay. Once live, a taken-over
//     connection is written by the hub itself: each event is encoded once
//     (frame.go) and written to every socket with one non-blocking
//     write(2), from a few goroutines; a socket that does not take it all
//     gets a bounded queue and a flusher goroutine, and a client whose
//     queue fills is disconnected (it resumes from the database when it
//     comes back). Nobody waits for anybody, and no event passes through
//     two goroutines per connection (at 10,000 connections that hop, not
//     the write, was most of the cost).
//   - AutoReplay (on by default) keeps every event forever and replays it
//     all to each new subscriber: off; resume comes from the signals table.
//     With replay off r3labs sets no ID and no timestamp, so every event
//     gets its seq as ID here and EventTTL is never used (it would drop
//     every event).
//   - An event with empty data ends the client's loop: data is never
//     empty. Multi-line HTML needs SplitData. There is no heartbeat: the
//     hub sends a comment to idle streams.
//   - RemoveStream and Close leave each subscriber's context watcher
//     blocked forever on an unbuffered channel. A stream is removed only
//     after its one subscriber has deregistered (OnUnsubscribe tells us).
package live

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
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
	// QueueSize is how many events a subscriber may have waiting beyond
	// what its socket buffers hold before it counts as stalled and is
	// dropped (default 64).
	QueueSize int
	// WriteTimeout drops a client that has taken none of the events
	// queued for it for this long (default 30 s).
	WriteTimeout time.Duration
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
	// CatchUpTimeout drops a client whose replay takes longer (default 30 s).
	CatchUpTimeout time.Duration
	Logger         *slog.Logger
}

func (c *Config) defaults() {
	if c.Channel == "" {
		c.Channel = "fp_signals"
	}
	if c.ControlChannel == "" {
		c.ControlChannel = "fp_live"
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
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// ErrClosed is returned by Serve once the hub is shutting down.
var ErrClosed = errors.New("live: hub closed")

// Hub fans signals out to event streams.
type Hub struct {
	cfg   Config
	store *store.Store
	dsn   string
	views *views.Renderer
	log   *slog.Logger
	sse   *sse.Server

	mu      sync.RWMutex
	topics  map[string]map[*subscriber]struct{} // streamKey → subscribers
	schemas map[string]int                      // tenant schema → subscribers, to skip unwatched tenants
	streams map[string]*subscriber              // r3labs stream id → subscriber
	closed  bool
	serving sync.WaitGroup

	renderMu  sync.RWMutex
	renderers map[string]RenderFunc // signal name, or prefix ending in "."

	orgMu  sync.Mutex
	orgIDs map[string]int64 // schema → organization id

	ephemerals sync.Map // streamKey → *Ephemeral being sent (ephemeral.go)

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
		streams:   map[string]*subscriber{},
		renderers: map[string]RenderFunc{},
		orgIDs:    map[string]int64{},
	}
	s := sse.New()
	s.AutoReplay = false // resume comes from the database
	s.AutoStream = false // only the hub creates streams
	s.SplitData = true   // fragments span lines
	s.BufferSize = cfg.QueueSize
	s.Headers = map[string]string{"X-Accel-Buffering": "no"}
	s.OnUnsubscribe = h.unsubscribed
	h.sse = s
	return h
}

// SetProcessedHook registers fn, called after each signal has been
// fanned out. For tests.
func (h *Hub) SetProcessedHook(fn func(schema string, seq int64)) { h.processed = fn }

// add registers a subscriber before it starts receiving.
func (h *Hub) add(s *subscriber) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	set := h.topics[s.key]
	if set == nil {
		set = map[*subscriber]struct{}{}
		h.topics[s.key] = set
	}
	set[s] = struct{}{}
	h.schemas[s.schema]++
	h.streams[s.id] = s
	h.serving.Add(1)
	return true
}

func (h *Hub) remove(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.topics[s.key]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.topics, s.key)
		}
	}
	if h.schemas[s.schema]--; h.schemas[s.schema] <= 0 {
		delete(h.schemas, s.schema)
	}
}

// unsubscribed is r3labs' OnUnsubscribe: the stream's goroutine has let
// go of the subscriber, so the stream can be removed without stranding
// r3labs' context watcher.
func (h *Hub) unsubscribed(streamID string, _ *sse.Subscriber) {
	h.mu.Lock()
	s := h.streams[streamID]
	delete(h.streams, streamID)
	h.mu.Unlock()
	if s != nil {
		close(s.gone)
	}
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

// deliver hands ev to every subscriber of key without ever waiting on
// one: a subscriber that cannot take it is dropped. A large audience is
// split between a few goroutines, one per processor: each event costs one
// write(2) per connection, and that is the whole cost of a fan-out. It
// returns once every subscriber has had the event, so events reach each
// connection in order.
func (h *Hub) deliver(key string, r rendered) {
	bp := fanPool.Get().(*[]*subscriber)
	subs := (*bp)[:0]
	// A snapshot, so new streams are not held up for the fan-out's
	// duration. A stream that registers after it was taken also starts
	// its replay after this signal committed, and finds it there.
	h.mu.RLock()
	for s := range h.topics[key] {
		subs = append(subs, s)
	}
	h.mu.RUnlock()

	now := time.Now().UnixNano()
	workers := min(runtime.GOMAXPROCS(0), (len(subs)+fanChunk-1)/fanChunk)
	var slow []*subscriber
	if workers <= 1 {
		slow = offerAll(subs, r, now, nil)
	} else {
		per := (len(subs) + workers - 1) / workers
		slows := make([][]*subscriber, workers)
		var wg sync.WaitGroup
		for w := 1; w < workers; w++ {
			part := subs[min(len(subs), w*per):min(len(subs), (w+1)*per)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				slows[w] = offerAll(part, r, now, nil)
			}()
		}
		slows[0] = offerAll(subs[:per], r, now, nil)
		wg.Wait()
		for _, sl := range slows {
			slow = append(slow, sl...)
		}
	}
	clear(subs)
	*bp = subs[:0]
	fanPool.Put(bp)
	for _, s := range slow {
		s.kick("too slow")
	}
}

// fanChunk is the smallest share of a fan-out worth another goroutine.
const fanChunk = 256

var fanPool = sync.Pool{New: func() any { return new([]*subscriber) }}

func offerAll(subs []*subscriber, r rendered, now int64, slow []*subscriber) []*subscriber {
	for _, s := range subs {
		ev := r.member
		if s.moderator {
			ev = r.moderator
		}
		if !s.offer(ev, now) {
			slow = append(slow, s)
		}
	}
	return slow
}

// each calls fn for every subscriber (under the read lock: fn must not block).
func (h *Hub) each(fn func(s *subscriber)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, set := range h.topics {
		for s := range set {
			fn(s)
		}
	}
}

func (h *Hub) kickWhere(reason string, match func(s *subscriber) bool) int {
	var hit []*subscriber
	h.each(func(s *subscriber) {
		if match(s) {
			hit = append(hit, s)
		}
	})
	for _, s := range hit {
		s.kick(reason)
	}
	return len(hit)
}

// Subscribers counts open streams in this process.
func (h *Hub) Subscribers() int {
	n := 0
	h.each(func(*subscriber) { n++ })
	return n
}

// Close ends every stream and waits for them to finish, then stops the
// listener. Call it after the HTTP server stopped accepting requests.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.kickWhere("shutting down", func(*subscriber) bool { return true })
	h.serving.Wait()
	if h.cancelRun != nil {
		h.cancelRun()
	}
	h.running.Wait()
	// Every stream is gone by now, so Close strands no goroutine.
	h.sse.Close()
}

// clearWriteDeadline lifts http.Server.WriteTimeout for this response: it
// would otherwise cut every stream after a fixed time.
func clearWriteDeadline(rc *http.ResponseController) error {
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
