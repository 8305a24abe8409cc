// Package threadcache keeps what a process rendered for its thread pages:
// each thread's pages (per key: page of posts, audience, audit cursor),
// and a memo of the fragments they are made of (posts, audit rows, the
// layout around them), each in a slot with the version it was rendered
// for.
//
// Pages are dropped per thread, never per tenant, so a reply in thread A
// leaves thread B's pages alone:
//   - a write in this process drops its thread when it has committed
//     (DropThread), so the writer's next page shows it;
//   - every committed signal of a tenant, heard through the live hub from
//     any process, is noted (Signal) and, before the tenant's next read,
//     mapped to the threads it touched (Config.ThreadsOfFunc: one query for
//     all the signals noted meanwhile) whose pages are then dropped;
//   - a page lives at most Config.TTL, the net for changes that emit no
//     signal (a user's new name).
//
// A page knows the tenant's signal seq it was loaded at (Config.SeqFunc;
// a tenant's signals commit in seq order, so a page loaded at seq M
// shows every signal up to M): a change whose seq is known drops only the
// pages loaded before it. A reply drops its thread at once here, for its
// batch's last seq, so its writer's next view loads it again, and the
// batch's other replies and their signals, heard a moment later, leave
// that page alone. A load that began before a drop is kept only if it
// read past the change's seq (a change of unknown seq: not at all), and
// concurrent misses of one page share one load.
//
// A dropped page is not thrown away at once: it waits among the thread's
// previous pages (previous.go), and readers who arrive while that page's
// next load is under way, or while the tenant's signals are being mapped,
// get it instead of queueing behind the work. The reader who starts the
// work waits for it, and so does a writer whose write the previous page
// lacks; no previous page is served past the TTL.
//
// Fragments need no invalidation: a fragment's version names everything
// it shows, so a changed post is a new version, and the memo survives its
// thread's page drops — after a reply, a reload renders one new post, not
// fifty.
package threadcache

import (
	"context"
	"math"
	"sync"
	"time"
)

// Config tunes a Cache. Zero values take the defaults.
type Config[V any] struct {
	// NoPages keeps only the fragment memo: every Get loads (the
	// benchmark's "miss" mode).
	NoPages bool
	// TTL bounds how long a page is served (default 1 s).
	TTL time.Duration
	// MaxBytes bounds pages and fragments together (default 32 MiB); past
	// it everything is dropped and the cache fills again.
	MaxBytes int
	// SizeFunc is a page's size in bytes, for MaxBytes.
	SizeFunc func(V) int
	// SeqFunc is the tenant's latest signal seq when the page was loaded
	// (0: unknown, any signal drops it).
	SeqFunc func(V) int64
	// ThreadsOfFunc maps signals of a tenant schema to the threads whose
	// pages they may have changed, each with the latest of its seqs; wide
	// means all of the tenant's threads.
	ThreadsOfFunc func(ctx context.Context, schema string, seqs []int64) (threads map[string]int64, wide bool, err error)
	// MaxPending bounds the signals noted for a tenant before the next
	// read (default 4096); past it the tenant's pages are dropped instead.
	MaxPending int
	// MaxThreads bounds the threads kept per tenant (default 1024) and
	// MaxTenants the tenants (default 4096).
	MaxThreads, MaxTenants int
	// MaxFragments bounds one thread's memo generation (default 1024).
	MaxFragments int
}

func (c Config[V]) withDefaults() Config[V] {
	if c.TTL == 0 {
		c.TTL = time.Second
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 32 << 20
	}
	if c.SizeFunc == nil {
		c.SizeFunc = func(V) int { return 0 }
	}
	if c.SeqFunc == nil {
		c.SeqFunc = func(V) int64 { return 0 }
	}
	if c.MaxPending == 0 {
		c.MaxPending = 4096
	}
	if c.MaxThreads == 0 {
		c.MaxThreads = 1024
	}
	if c.MaxTenants == 0 {
		c.MaxTenants = 4096
	}
	if c.MaxFragments == 0 {
		c.MaxFragments = 1024
	}
	return c
}

// Cache is safe for concurrent use. Build it with New.
type Cache[V any] struct {
	cfg     Config[V]
	mu      sync.Mutex
	tenants map[string]*tenant[V]
	bytes   int
}

type tenant[V any] struct {
	threads map[string]*thread[V]
	// gen counts drops in the tenant; a thread remembers the gen of its
	// last drop and the tenant that of its last reset, so a load begun
	// before either is not kept.
	gen, resetGen uint64
	// pending are the seqs noted and not yet mapped to threads; observed
	// and resolved count the signals noted and mapped.
	pending            []int64
	observed, resolved uint64
	mapping            bool // a mapping is under way
}

type thread[V any] struct {
	// strongGen is the gen of the thread's last drop of every page (a
	// change whose seq is not known); softGen that of the last drop that
	// raised floor, the latest seq of a change (signal) a kept page must
	// show: a load begun before either is kept only if it read at or past
	// floor and no strong drop came after it began.
	strongGen, softGen uint64
	floor              int64
	pages              map[string]page[V]
	loads              map[string]*load[V]
	// prev are the pages drops retired, by key; wrote what each writer's
	// latest write here requires of a page shown to them (previous.go).
	prev     map[string]page[V]
	wrote    map[int64]mark
	cur, old map[string]fragment // the fragment memo by slot, two generations
}

type page[V any] struct {
	v    V
	at   time.Time
	size int
	seq  int64
	gen  uint64 // the tenant's gen when its load began
}

type load[V any] struct {
	done chan struct{}
	gen  uint64 // the tenant's gen when it began
	v    V
	err  error
}

// New builds a cache.
func New[V any](cfg Config[V]) *Cache[V] {
	return &Cache[V]{cfg: cfg.withDefaults(), tenants: map[string]*tenant[V]{}}
}

// Get returns the page key of thread in schema for viewer (a user id; 0
// for one who cannot write), loading it with fill on a miss. Concurrent
// misses of one page share one load, which runs without the caller's
// cancellation (another request may be waiting for it); a reader who
// finds that load, or a mapping of signals, under way may get the page's
// previous version instead (previous.go).
func (c *Cache[V]) Get(ctx context.Context, schema, threadID, key string, viewer int64, fill func(context.Context) (V, error)) (V, error) {
	if c.cfg.NoPages {
		return fill(ctx)
	}
	c.mu.Lock()
	ten := c.tenant(schema)
	c.settle(ctx, schema, ten)
	th := c.thread(ten, threadID)
	if p, ok := th.pages[key]; ok && time.Since(p.at) <= c.cfg.TTL {
		c.mu.Unlock()
		return p.v, nil
	}
	// A load under way began after the last drop that forgot the loads,
	// so it shows every write that made the thread's writers' marks.
	if l := th.loads[key]; l != nil {
		p, ok := c.previous(th, key, th.wrote[viewer])
		c.mu.Unlock()
		if ok {
			return p.v, nil
		}
		return l.wait(ctx)
	}
	l := &load[V]{done: make(chan struct{}), gen: ten.gen}
	th.loads[key] = l
	at := time.Now()
	c.mu.Unlock()

	l.v, l.err = fill(context.WithoutCancel(ctx))
	c.mu.Lock()
	if th.loads[key] == l {
		delete(th.loads, key)
	}
	if l.err == nil && c.tenants[schema] == ten && ten.threads[threadID] == th && ten.resetGen <= l.gen {
		p := page[V]{v: l.v, at: at, size: c.cfg.SizeFunc(l.v), seq: c.cfg.SeqFunc(l.v), gen: l.gen}
		if th.current(p) {
			c.keep(th, key, p)
		} else {
			c.retire(th, key, p) // raced a drop: still newer than the page it retired
		}
	}
	c.mu.Unlock()
	close(l.done)
	return l.v, l.err
}

// current says p shows every change the thread's drops have heard of.
func (th *thread[V]) current(p page[V]) bool {
	return th.strongGen <= p.gen && (th.softGen <= p.gen || p.seq >= th.floor)
}

func (l *load[V]) wait(ctx context.Context) (V, error) {
	select {
	case <-l.done:
		return l.v, l.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

func (c *Cache[V]) keep(th *thread[V], key string, p page[V]) {
	if old, ok := th.pages[key]; ok {
		c.bytes -= old.size
	}
	if old, ok := th.prev[key]; ok {
		c.bytes -= old.size
		delete(th.prev, key)
	}
	th.pages[key] = p
	c.grow(p.size)
}

// grow counts n more bytes, dropping everything past MaxBytes.
func (c *Cache[V]) grow(n int) {
	c.bytes += n
	if c.bytes > c.cfg.MaxBytes {
		for _, ten := range c.tenants {
			c.reset(ten)
		}
		c.bytes = 0
	}
}

// tenant returns schema's record, making it (c.mu held).
func (c *Cache[V]) tenant(schema string) *tenant[V] {
	ten := c.tenants[schema]
	if ten == nil {
		if len(c.tenants) >= c.cfg.MaxTenants {
			c.dropIdleTenants()
		}
		ten = &tenant[V]{threads: map[string]*thread[V]{}}
		c.tenants[schema] = ten
	}
	return ten
}

// dropIdleTenants forgets tenants with nothing in flight; a load of a
// forgotten tenant is not kept (Get checks the record is still the same).
func (c *Cache[V]) dropIdleTenants() {
	for schema, ten := range c.tenants {
		if !ten.mapping {
			c.reset(ten)
			delete(c.tenants, schema)
		}
	}
}

func (c *Cache[V]) thread(ten *tenant[V], id string) *thread[V] {
	th := ten.threads[id]
	if th == nil {
		if len(ten.threads) >= c.cfg.MaxThreads {
			c.reset(ten)
		}
		th = &thread[V]{pages: map[string]page[V]{}, loads: map[string]*load[V]{},
			prev: map[string]page[V]{}, wrote: map[int64]mark{}}
		ten.threads[id] = th
	}
	return th
}

// drop retires the pages of thread that do not show a change with signal
// seq (math.MaxInt64: a change whose seq is not known, so all of them;
// not its fragments), and forgets the loads under way that may predate
// it: later readers start their own. A seq the thread's floor already
// covers changes nothing: its pages and loads were read after it (the
// replies of one batch each drop their thread, for the batch's last seq).
func (c *Cache[V]) drop(ten *tenant[V], id string, seq int64) {
	ten.gen++
	th := ten.threads[id]
	if th == nil {
		return
	}
	switch {
	case seq == math.MaxInt64:
		th.strongGen = ten.gen
	case seq > th.floor:
		th.softGen, th.floor = ten.gen, seq
	default:
		return
	}
	for k, p := range th.pages {
		if p.seq < seq {
			delete(th.pages, k)
			c.bytes -= p.size
			c.retire(th, k, p)
		}
	}
	clear(th.loads)
}

// reset forgets everything of ten, fragments included; every signal
// noted so far counts as applied.
func (c *Cache[V]) reset(ten *tenant[V]) {
	ten.gen++
	ten.resetGen = ten.gen
	for _, th := range ten.threads {
		for _, p := range th.pages {
			c.bytes -= p.size
		}
		for _, p := range th.prev {
			c.bytes -= p.size
		}
		for _, f := range th.cur {
			c.bytes -= f.size()
		}
		for _, f := range th.old {
			c.bytes -= f.size()
		}
	}
	clear(ten.threads)
	ten.pending = nil
	ten.resolved = ten.observed
}
