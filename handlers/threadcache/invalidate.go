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

// DropThread drops the pages of one thread (a write in this process).
func (c *Cache[V]) DropThread(schema, threadID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ten := c.tenants[schema]; ten != nil {
		c.drop(ten, threadID, math.MaxInt64)
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
// signals are mapped to threads (one ThreadsOfFunc call per batch, shared
// by concurrent readers) and those threads' pages dropped. A failed
// mapping drops the whole tenant. Called and returns with c.mu held.
func (c *Cache[V]) settle(ctx context.Context, schema string, ten *tenant[V]) error {
	need := ten.observed
	for ten.resolved < need {
		if done := ten.resolving; done != nil {
			c.mu.Unlock()
			select {
			case <-done:
			case <-ctx.Done():
				c.mu.Lock()
				return ctx.Err()
			}
			c.mu.Lock()
			continue
		}
		batch, upTo := ten.pending, ten.observed
		ten.pending = nil
		done := make(chan struct{})
		ten.resolving = done
		c.mu.Unlock()
		threads, wide, err := c.cfg.ThreadsOfFunc(context.WithoutCancel(ctx), schema, batch)
		c.mu.Lock()
		ten.resolving = nil
		close(done)
		if err != nil || wide {
			c.reset(ten)
		} else {
			for id, seq := range threads {
				c.drop(ten, id, seq)
			}
		}
		ten.resolved = max(ten.resolved, upTo)
	}
	return nil
}

// Fragment returns the memo's fragment of key, rendered by render on a
// miss. key must name everything the fragment shows.
func (c *Cache[V]) Fragment(schema, threadID, key string, render func() (string, error)) (string, error) {
	c.mu.Lock()
	th := c.thread(c.tenant(schema), threadID)
	f, ok := th.cur[key]
	if !ok {
		if f, ok = th.old[key]; ok { // still in use: into the newer generation
			delete(th.old, key)
			c.bytes -= len(key) + len(f)
			c.remember(th, key, f)
		}
	}
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := render()
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if th2 := c.tenants[schema]; th2 != nil && th2.threads[threadID] == th {
		c.remember(th, key, f)
	}
	c.mu.Unlock()
	return f, nil
}

// remember adds a fragment to the newer generation, retiring the older
// one when the newer is full (c.mu held).
func (c *Cache[V]) remember(th *thread[V], key, f string) {
	if _, in := th.cur[key]; in {
		return
	}
	if th.cur == nil || len(th.cur) >= c.cfg.MaxFragments {
		for k, old := range th.old {
			c.bytes -= len(k) + len(old)
		}
		th.old, th.cur = th.cur, make(map[string]string, 64)
	}
	th.cur[key] = f
	c.grow(len(key) + len(f))
}
