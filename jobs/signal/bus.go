// Package signal delivers signals to the subscribers registered in code
// (SPEC §6, issue 9 "fanout in proportion to interest").
//
// Each subscriber reads each tenant's signal log from a cursor of its own
// (public.signal_cursors), in seq order. A delivery is one transaction:
// the cursor row is locked (FOR UPDATE SKIP LOCKED, so one worker of any
// process works on a subscriber and tenant at a time), the next batch of
// signals the subscriber wants is read, its handler writes its effects in
// the same transaction, and the cursor moves past the batch. So every
// signal a subscriber wants takes effect once, in order per tenant, and a
// worker killed mid-way leaves nothing behind but the cursor where it was.
//
// Why cursors rather than a job per signal: a signal costs its row and its
// NOTIFY (which the live layer needs anyway) and nothing else. Nobody
// writes a job, a delivery row or a wake-up for a signal no subscriber
// wants; a subscriber wakes only for NOTIFYs whose name it wants; and a
// busy tenant's signals go to a subscriber a hundred per transaction
// instead of one job each. The price is head-of-line order: a signal that
// keeps failing holds up that subscriber in that tenant, so after
// Config.MaxAttempts failures it is recorded (signal_failures) and passed,
// and a replay delivers it again.
package signal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// Delivery is a batch of one tenant's signals for a subscriber, oldest
// first.
type Delivery struct {
	Tenant  store.Tenant
	Signals []store.Signal
	// Replay is set when the signals were delivered before and an admin
	// asked for them again: effects that must not repeat (a count) must
	// be made idempotent, effects that are the point of a replay (a
	// webhook delivery) happen again.
	Replay bool
	// Cursor is, on a replay, the subscriber's cursor in the tenant, held
	// locked for the transaction: signals at or below it were delivered.
	Cursor int64
}

// HandleFunc reacts to a delivery inside tx, the transaction that also
// moves the subscriber's cursor: write the effects through tx only, so
// they commit exactly when the signals count as delivered. An error rolls
// both back; the signals are delivered again after a backoff.
type HandleFunc func(ctx context.Context, tx *sqlx.Tx, d Delivery) error

// Subscriber reacts to signals.
type Subscriber struct {
	// Name identifies the subscriber's cursors; renaming it starts over.
	Name string
	// Signals are the name patterns it wants (store.SignalPatternMatch):
	// "forum.*", "package.installation.installed", "*".
	Signals []string
	// FromLatest starts a new subscriber at each tenant's latest signal
	// (it reacts to what happens from now on, like a workflow); otherwise
	// it gets the whole history first (like counts).
	FromLatest bool
	// BatchSize bounds the signals per delivery (default 100).
	BatchSize int
	// Coalesce overrides Config.Coalesce for this subscriber: Prompt for
	// one whose delay people see (a workflow run starting, an agent
	// answering a mention); negative looks again at once.
	Coalesce   time.Duration
	HandleFunc HandleFunc
}

// Prompt is the Coalesce of subscribers whose delay people see: a busy
// tenant's signals still reach them in batches (at 800 replies a second,
// a wait of none made each of three such subscribers a transaction per
// reply, a fifth of the reply's cost), and a signal waits at most this
// long behind the previous delivery.
const Prompt = 10 * time.Millisecond

// Config tunes a Bus; zero values take the defaults.
type Config struct {
	Store *store.Store
	// DSN is the connection string of the LISTEN connection; empty means
	// no LISTEN, only the periodic sweep.
	DSN string
	// Sweep is how often every cursor is checked regardless of NOTIFYs,
	// in case one was missed (default 1 min).
	Sweep time.Duration
	// MaxAttempts is how many times a failing signal is tried before it
	// is recorded as failed and passed (default 8).
	MaxAttempts int
	// BackoffFunc is the wait after the given failure (default
	// exponential from 1 s, capped at 10 min).
	BackoffFunc func(attempt int) time.Duration
	// Tenants, when set, limits this bus to these tenant schemas (a test
	// that must not take other tests' signals). Empty means every tenant.
	Tenants []string
	// Coalesce is how long a subscriber waits after a wake-up that
	// delivered something before it looks again, so a busy tenant's
	// signals reach it in batches (default 50 ms; negative: never waits).
	Coalesce time.Duration
	// OnDeliveredFunc, when set, is called after each committed delivery
	// (tests and benchmarks wait on it).
	OnDeliveredFunc func(subscriber, schema string, lastSeq int64, n int)
	Logger          *slog.Logger
}

func (c *Config) defaults() {
	if c.Sweep <= 0 {
		c.Sweep = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BackoffFunc == nil {
		c.BackoffFunc = jobs.ExponentialBackoff(time.Second, 10*time.Minute)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Coalesce == 0 {
		c.Coalesce = 50 * time.Millisecond
	}
}

// Bus runs the subscribers. Build it with New, Subscribe each subscriber,
// then Start it; Stop it before closing the pool.
type Bus struct {
	cfg Config
	st  *store.Store
	log *slog.Logger

	only map[string]bool // Config.Tenants; nil for all

	// known keeps the tenants found by schema for a while: every drain
	// needs its tenant, and organizations come and go rarely.
	knownMu sync.Mutex
	known   map[string]knownTenant

	mu      sync.Mutex
	subs    []*worker
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New builds a bus with no subscribers.
func New(cfg Config) *Bus {
	cfg.defaults()
	b := &Bus{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("component", "signals")}
	if len(cfg.Tenants) > 0 {
		b.only = map[string]bool{}
		for _, t := range cfg.Tenants {
			b.only[t] = true
		}
	}
	return b
}

// tenants lists the tenants this bus delivers in.
func (b *Bus) tenants(ctx context.Context) ([]store.Tenant, error) {
	all, err := b.st.Tenants(ctx)
	if err != nil || b.only == nil {
		return all, err
	}
	var out []store.Tenant
	for _, t := range all {
		if b.only[t.Schema()] {
			out = append(out, t)
		}
	}
	return out, nil
}

type knownTenant struct {
	t  store.Tenant
	at time.Time
}

// knownFor is how long a tenant found by schema is kept. A deleted
// organization's deliveries fail on its missing schema meanwhile, and
// stop once it is looked up again.
const knownFor = 30 * time.Second

// tenant is the tenant of schema (store.TenantBySchema), kept a while.
func (b *Bus) tenant(ctx context.Context, schema string) (store.Tenant, error) {
	b.knownMu.Lock()
	k, ok := b.known[schema]
	b.knownMu.Unlock()
	if ok && time.Since(k.at) < knownFor {
		return k.t, nil
	}
	t, err := b.st.TenantBySchema(ctx, schema)
	if err != nil {
		return t, err
	}
	b.knownMu.Lock()
	if b.known == nil || len(b.known) > 10000 {
		b.known = map[string]knownTenant{}
	}
	b.known[schema] = knownTenant{t: t, at: time.Now()}
	b.knownMu.Unlock()
	return t, nil
}

// Subscribe registers s. A bad or repeated registration is a wiring
// mistake and panics at boot.
func (b *Bus) Subscribe(s Subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		panic("signal: Subscribe(" + s.Name + ") after Start")
	}
	if s.Name == "" || s.HandleFunc == nil {
		panic("signal: a subscriber needs a name and a HandleFunc")
	}
	if err := store.CheckSignalPatterns("signals", s.Signals); err != nil {
		panic(fmt.Sprintf("signal: subscriber %s: %v", s.Name, err))
	}
	for _, w := range b.subs {
		if w.sub.Name == s.Name {
			panic("signal: two subscribers named " + s.Name)
		}
	}
	if s.BatchSize <= 0 {
		s.BatchSize = 100
	}
	b.subs = append(b.subs, newWorker(s))
}

// Subscribers lists the registered subscribers.
func (b *Bus) Subscribers() []Subscriber {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Subscriber, len(b.subs))
	for i, w := range b.subs {
		out[i] = w.sub
	}
	return out
}

// Start places every subscriber's cursors, then delivers until Stop: on
// each NOTIFY of a signal a subscriber wants, and on every sweep.
func (b *Bus) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return errors.New("signal: bus already started")
	}
	b.started = true
	if err := b.startCursors(ctx); err != nil {
		return err
	}
	ctx, b.cancel = context.WithCancel(ctx)
	for _, w := range b.subs {
		b.wg.Add(1)
		go func() { defer b.wg.Done(); b.run(ctx, w) }()
	}
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.listen(ctx) }()
	b.log.Info("signal subscribers started", "subscribers", len(b.subs), "listen", b.cfg.DSN != "")
	return nil
}

// startCursors gives each subscriber a cursor in every tenant that has
// none, at the start its FromLatest asks for.
func (b *Bus) startCursors(ctx context.Context) error {
	if len(b.subs) == 0 {
		return nil
	}
	tenants, err := b.tenants(ctx)
	if err != nil {
		return err
	}
	for _, w := range b.subs {
		for _, t := range tenants {
			if err := b.st.StartSignalCursor(ctx, w.sub.Name, t, w.sub.FromLatest); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stop ends delivery and waits for deliveries in progress; one cut short
// by ctx rolls back and is made again later.
func (b *Bus) Stop(ctx context.Context) error {
	b.mu.Lock()
	cancel := b.cancel
	b.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wake asks every subscriber to look at schema's log now.
func (b *Bus) Wake(schema string) {
	if b.only != nil && !b.only[schema] {
		return
	}
	for _, w := range b.workers() {
		w.mark(schema)
	}
}

func (b *Bus) workers() []*worker {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*worker(nil), b.subs...)
}

func (b *Bus) worker(name string) *worker {
	for _, w := range b.workers() {
		if w.sub.Name == name {
			return w
		}
	}
	return nil
}
