package live

import "sync/atomic"

// Stats are the hub's counters since it was built: what an operator (or
// bench/sse) reads to see that nothing was dropped silently.
type Stats struct {
	// Open is how many streams are open now.
	Open int
	// Waking is how many writers are woken or waiting to be, and not yet
	// running (waker.go): a backlog while a fan-out is under way, near
	// zero between events.
	Waking int
	// Refused counts streams turned away by MaxStreams or
	// MaxSessionStreams (the handler answers 429).
	Refused int64
	// Cut counts streams ended because their client could not keep up:
	// a full queue, a write blocked past WriteTimeout, a replay too slow.
	// Each such client resumes from its Last-Event-ID.
	Cut int64
	// Ended counts the other streams the server ended: sign-out, a
	// member disabled, the listener reconnecting, shutdown.
	Ended int64
	// Writes counts writes to streams, replay included: one system call
	// each, unless the socket takes a large one in parts. CoalescedWrites
	// counts those that carried more than one frame (a writer that fell
	// behind catching up in one go); Frames the events and comments they
	// carried. Each is counted when its write returns.
	Writes, CoalescedWrites, Frames int64
}

// counters are Stats' running totals, updated without locks.
type counters struct {
	refused, cut, ended             atomic.Int64
	writes, coalescedWrites, frames atomic.Int64
}

// Stats returns the counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Open:            h.Subscribers(),
		Waking:          h.waker.backlog(),
		Refused:         h.stats.refused.Load(),
		Cut:             h.stats.cut.Load(),
		Ended:           h.stats.ended.Load(),
		Writes:          h.stats.writes.Load(),
		CoalescedWrites: h.stats.coalescedWrites.Load(),
		Frames:          h.stats.frames.Load(),
	}
}
