package threadcache

import "time"

// Previous pages. A busy thread is dropped many times a second (every
// reply), and each drop used to send every reader of the page into a
// queue behind its next load: in the benchmark's mixed mode six reads in
// ten waited for one, and those waits were the read p99. Now a drop
// retires the page instead, and while the page's next load is under way
// (someone is already paying for it) other readers get the retired page.
//
// That page is what any reader arriving a few milliseconds earlier would
// have got, and its live stream resumes from its seq, so the change
// arrives over SSE as it would have for them. Three readers never get it:
//   - the one who finds no load under way: it starts the load and waits,
//     so a view begun after a drop, with nothing else in flight, shows
//     the change;
//   - a writer whose write the page lacks (wrote): a reply is on the page
//     its writer is sent back to;
//   - anyone, once the page is older than the TTL.
//
// A tenant reset (a wide signal, a failed mapping, the hub reconnecting)
// forgets previous pages with everything else: nothing the cache can no
// longer vouch for is served.

// maxWriters bounds the writers a thread remembers; past it the thread's
// previous pages go too, so forgetting a writer never shows them a page
// without their write.
const maxWriters = 256

// retire keeps p as key's previous page unless a newer one is kept
// (c.mu held; p's bytes are not counted yet). Newer is the later seq read
// (two loads under way at once read in either order), else the later
// start: a reader who saw a page is not served an older one after it.
func (c *Cache[V]) retire(th *thread[V], key string, p page[V]) {
	if old, ok := th.prev[key]; ok {
		if old.seq > p.seq || old.seq == p.seq && old.gen >= p.gen {
			return
		}
		c.bytes -= old.size
	}
	th.prev[key] = p
	c.grow(p.size)
}

// mark is what a writer's latest write requires of a page shown to them:
// its load began at or after gen (after the write's drop), or it read at
// or past seq (when the write's seq is known).
type mark struct {
	gen uint64
	seq int64
}

func shows[V any](p page[V], m mark) bool {
	return p.gen >= m.gen || m.seq > 0 && p.seq >= m.seq
}

// previous returns key's previous page if a viewer with mark m may be
// served it (c.mu held).
func (c *Cache[V]) previous(th *thread[V], key string, m mark) (page[V], bool) {
	p, ok := th.prev[key]
	if !ok || !shows(p, m) || time.Since(p.at) > c.cfg.TTL {
		return page[V]{}, false
	}
	return p, true
}

// wroteHere notes that writer's write, with signal seq (0: not known),
// has just dropped the thread (c.mu held): a load begun from the drop
// that covers it on shows it.
func (c *Cache[V]) wroteHere(th *thread[V], writer, seq int64) {
	if writer == 0 {
		return
	}
	if len(th.wrote) >= maxWriters {
		for _, p := range th.prev {
			c.bytes -= p.size
		}
		clear(th.prev)
		clear(th.wrote)
	}
	m := mark{gen: th.strongGen}
	if seq > 0 {
		m = mark{gen: th.softGen, seq: seq}
	}
	th.wrote[writer] = m
}
