package live

import "context"

// Observer learns of what the hub's LISTEN connection hears, for caches
// elsewhere in the process that must drop what a change makes stale. Its
// functions run on the listener goroutine: they must be quick and must
// not block.
type Observer struct {
	// Signal is called for each committed signal: its tenant schema and seq.
	Signal func(schema string, seq int64)
	// Control is called for each control message (Announce, EndSession,
	// EndMember), from any process including this one.
	Control func(msg string)
	// Lost is called when the connection was re-established and
	// notifications may have been missed.
	Lost func()
}

// Observe adds o; call it before Start.
func (h *Hub) Observe(o Observer) {
	h.obsMu.Lock()
	h.observers = append(h.observers, o)
	h.obsMu.Unlock()
}

// Announce sends msg on the control channel to every process's hub (and
// so to its observers). The hub itself ignores kinds it does not know.
func (h *Hub) Announce(ctx context.Context, msg string) error { return h.announce(ctx, msg) }

func (h *Hub) observe(f func(Observer)) {
	h.obsMu.Lock()
	obs := h.observers
	h.obsMu.Unlock()
	for _, o := range obs {
		f(o)
	}
}
