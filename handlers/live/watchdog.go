package live

import (
	"context"
	"time"
)

// watch is the loop that looks at every stream now and then: it sends a
// keep-alive comment to those silent for a heartbeat interval, and cuts
// those whose write has been blocked longer than WriteTimeout (a client
// that stopped reading while nothing more was sent to it). Ticking four
// times per interval spreads the heartbeats instead of writing to every
// connection at once, and bounds how late a cut can come.
func (h *Hub) watch(ctx context.Context) {
	every(ctx, min(h.cfg.Heartbeat, h.cfg.WriteTimeout)/4, func() {
		now := time.Now()
		idleSince := now.Add(-h.cfg.Heartbeat).UnixNano()
		blockedSince := now.Add(-h.cfg.WriteTimeout).UnixNano()
		var stuck []*subscriber
		h.each(func(s *subscriber) {
			if w := s.writing.Load(); w != 0 && w < blockedSince {
				stuck = append(stuck, s)
				return
			}
			s.beat(idleSince)
		})
		for _, s := range stuck {
			s.cut("write blocked past the write timeout")
		}
	})
}

// every calls fn every d until ctx ends: the shape of the hub's
// background loops.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
