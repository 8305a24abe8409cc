package threadcache

import (
	"context"
	"math"
)

// Signal notes a committed signal of schema (the live hub's Observer):
// before the tenant's next read, it is mapped to the threads it touched.
// It never blocks. A tenant with nothing cached has nothing to drop, and
// no load under way (a load makes the record first), so its signals are
// not even noted.
func (c *Cache[V]) Signal(schema string, seq int64) {
	if c.cfg.NoPages {
		return // fragments need no invalidation
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ten := c.tenants[schema]
	if ten == nil {
		return
	}
	ten.observed++
	if len(ten.pending) >= c.cfg.MaxPending {
		c.reset(ten)
		return
	}
	ten.pending = append(ten.pending, seq)
}

// DropThread drops the pages of one thread after writer's write in this
// process (writer 0: no one's) with signal seq (0: not known), so that
// writer's next view loads it and a view begun after it too.
func (c *Cache[V]) DropThread(schema, threadID string, writer, seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ten := c.tenants[schema]
	if ten == nil {
		return
	}
	if seq > 0 {
		c.drop(ten, threadID, seq)
	} else {
		c.drop(ten, threadID, math.MaxInt64)
	}
	if th := ten.threads[threadID]; th != nil {
		c.wroteHere(th, writer, seq)
	}
}

// DropTenant drops every page of a tenant (a change every thread shows,
// such as a category archived).
func (c *Cache[V]) DropTenant(schema string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ten := c.tenants[schema]; ten != nil {
		c.reset(ten)
	}
}

// DropAll drops everything (the hub's listener reconnected: signals may
// have been missed).
func (c *Cache[V]) DropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ten := range c.tenants {
		c.reset(ten)
	}
	c.bytes = 0
}

// settle applies every signal ten had noted when it was called: the
// signals are mapped to threads (one ThreadsOfFunc call per batch) and
// those threads' pages dropped. A failed mapping drops the whole tenant.
// A reader who finds a mapping under way does not wait for it: like a
// reader who finds a page's load under way (previous.go), it takes the
// pages as they were; the one who maps waits, and so do the signals
// noted after its batch, which the next reader maps. Called and returns
// with c.mu held.
func (c *Cache[V]) settle(ctx context.Context, schema string, ten *tenant[V]) {
	if ten.mapping || ten.resolved == ten.observed {
		return
	}
	batch, upTo := ten.pending, ten.observed
	ten.pending = nil
	ten.mapping = true
	c.mu.Unlock()
	threads, wide, err := c.cfg.ThreadsOfFunc(context.WithoutCancel(ctx), schema, batch)
	c.mu.Lock()
	ten.mapping = false
	if err != nil || wide {
		c.reset(ten)
	} else {
		for id, seq := range threads {
			c.drop(ten, id, seq)
		}
	}
	ten.resolved = max(ten.resolved, upTo)
}

// Fragment returns the memo's fragment in slot (one post for one
// audience, one audit row, one viewer's layout...) when it was rendered
// for version, which must name everything the fragment shows; otherwise
// it renders it with render and keeps it in the slot instead. A slot
// holds one version, so a thread's memo grows with what its pages show,
// not with how often it changed.
func (c *Cache[V]) Fragment(schema, threadID, slot, version string, render func() (string, error)) (string, error) {
	markup, _, err := c.FragmentParsed(schema, threadID, slot, version, render, nil)
	return markup, err
}

// FragmentParsed is Fragment for a caller that walks the markup the same
// way on every use (a page assembled from fragments splits each one at
// its markers): parse's result, and its size in bytes, are kept beside
// the markup, so a version is walked once, not once per page. The parsed
// value must depend on the markup alone. With a nil parse, it is nil.
func (c *Cache[V]) FragmentParsed(schema, threadID, slot, version string, render func() (string, error),
	parse func(string) (any, int)) (string, any, error) {
	c.mu.Lock()
	th := c.thread(c.tenant(schema), threadID)
	f, ok := th.cur[slot]
	if !ok {
		if f, ok = th.old[slot]; ok { // still in use: into the newer generation
			delete(th.old, slot)
			c.bytes -= f.size()
			c.remember(th, slot, f)
		}
	}
	c.mu.Unlock()
	if ok && f.version == version && (f.parsed != nil || parse == nil) {
		return f.markup, f.parsed, nil
	}
	markup := f.markup
	if !ok || f.version != version {
		var err error
		if markup, err = render(); err != nil {
			return "", nil, err
		}
	}
	nf := fragment{version: version, markup: markup}
	if parse != nil {
		nf.parsed, nf.parsedSize = parse(markup)
	}
	c.mu.Lock()
	if ten := c.tenants[schema]; ten != nil && ten.threads[threadID] == th {
		c.remember(th, slot, nf)
	}
	c.mu.Unlock()
	return markup, nf.parsed, nil
}

// Has says slot holds the fragment rendered for version (a caller that
// must read something before it can render asks first; Fragment may
// still render, if the slot is retired in between).
func (c *Cache[V]) Has(schema, threadID, slot, version string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ten := c.tenants[schema]
	if ten == nil {
		return false
	}
	th := ten.threads[threadID]
	if th == nil {
		return false
	}
	f, ok := th.cur[slot]
	if !ok {
		f, ok = th.old[slot]
	}
	return ok && f.version == version
}

// fragment is one slot of the memo: the markup of one version and, when
// asked for (FragmentParsed), what was parsed of it.
type fragment struct {
	version, markup string
	parsed          any
	parsedSize      int
}

func (f fragment) size() int { return len(f.version) + len(f.markup) + f.parsedSize }

// remember puts f in slot of the newer generation, retiring the older
// one when the newer is full (c.mu held).
func (c *Cache[V]) remember(th *thread[V], slot string, f fragment) {
	if old, in := th.cur[slot]; in {
		c.bytes -= old.size()
	} else if th.cur == nil || len(th.cur) >= c.cfg.MaxFragments {
		for _, o := range th.old {
			c.bytes -= o.size()
		}
		th.old, th.cur = th.cur, make(map[string]fragment, 64)
	}
	th.cur[slot] = f
	c.grow(f.size())
}
