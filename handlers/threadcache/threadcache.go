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
// shows every signal up to M): a signal drops only the pages loaded
// before it. A reply drops its thread at once here, its writer's next
// view loads it again, and the reply's own signal, heard a moment later,
// leaves that page alone. A load that raced a drop of its thread is not
// kept (generations), and concurrent misses of one page share one load.
//
// Fragments need no invalidation: a fragment's version names everything
// it shows, so a changed post is a new version, and the memo survives its
// thread's page drops — after a reply, a reload renders one new post, not
// fifty.
package threadcache

import (
	"context"
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
	resolving          chan struct{} // closed when the mapping under way ends
}

type thread[V any] struct {
	dropGen  uint64
	pages    map[string]page[V]
	loads    map[string]*load[V]
	cur, old map[string]fragment // the fragment memo by slot, two generations
}

type page[V any] struct {
	v    V
	at   time.Time
	size int
	seq  int64
}

type load[V any] struct {
	done chan struct{}
	v    V
	err  error
}

// New builds a cache.
func New[V any](cfg Config[V]) *Cache[V] {
	return &Cache[V]{cfg: cfg.withDefaults(), tenants: map[string]*tenant[V]{}}
}

// Get returns the page key of thread in schema, loading it with load on a
// miss. Concurrent misses of one page share one load, which runs without
// the caller's cancellation (another request may be waiting for it).
func (c *Cache[V]) Get(ctx context.Context, schema, threadID, key string, load func(context.Context) (V, error)) (V, error) {
	if c.cfg.NoPages {
		return load(ctx)
	}
	c.mu.Lock()
	ten := c.tenant(schema)
	if err := c.settle(ctx, schema, ten); err != nil {
		c.mu.Unlock()
		var zero V
		return zero, err
	}
	th := c.thread(ten, threadID)
	if p, ok := th.pages[key]; ok && time.Since(p.at) <= c.cfg.TTL {
		c.mu.Unlock()
		return p.v, nil
	}
	if l := th.loads[key]; l != nil {
		c.mu.Unlock()
		return l.wait(ctx)
	}
	l := c.start(th, key)
	gen, at := ten.gen, time.Now()
	c.mu.Unlock()

	l.v, l.err = load(context.WithoutCancel(ctx))
	c.mu.Lock()
	if th.loads[key] == l {
		delete(th.loads, key)
	}
	if l.err == nil && c.tenants[schema] == ten && ten.threads[threadID] == th && th.dropGen <= gen && ten.resetGen <= gen {
		c.keep(th, key, page[V]{v: l.v, at: at, size: c.cfg.SizeFunc(l.v), seq: c.cfg.SeqFunc(l.v)})
	}
	c.mu.Unlock()
	close(l.done)
	return l.v, l.err
}

func (c *Cache[V]) start(th *thread[V], key string) *load[V] {
	l := &load[V]{done: make(chan struct{})}
	th.loads[key] = l
	return l
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
		if ten.resolving == nil {
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
		th = &thread[V]{pages: map[string]page[V]{}, loads: map[string]*load[V]{}}
		ten.threads[id] = th
	}
	return th
}

// drop forgets thread's pages loaded before seq (not its fragments) and
// the loads under way, which may predate the change: later readers start
// their own.
func (c *Cache[V]) drop(ten *tenant[V], id string, seq int64) {
	ten.gen++
	th := ten.threads[id]
	if th == nil {
		return
	}
	th.dropGen = ten.gen
	for k, p := range th.pages {
		if p.seq < seq {
			c.bytes -= p.size
			delete(th.pages, k)
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
