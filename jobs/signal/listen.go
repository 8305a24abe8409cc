package signal

import (
	"context"
	"time"

	"github.com/lib/pq"

	"fleetprompt/store"
)

// listen wakes the subscribers that want each NOTIFYed signal, and every
// subscriber for every tenant on each sweep and after each reconnect
// (notifications sent while disconnected are lost, so it must look).
func (b *Bus) listen(ctx context.Context) {
	tick := time.NewTicker(b.cfg.Sweep)
	defer tick.Stop()
	var notify <-chan *pq.Notification
	if b.cfg.DSN != "" {
		l := pq.NewListener(b.cfg.DSN, 10*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
			if err != nil && ctx.Err() == nil {
				b.log.Warn("signal listener", "event", ev, "err", err)
			}
		})
		defer l.Close()
		if err := l.Listen(store.SignalNotifyChannel); err != nil {
			b.log.Error("listen for signals: sweeping only", "err", err)
		} else {
			notify = l.Notify
		}
	}
	// Once listening: whatever committed before is found by this sweep,
	// whatever commits after is notified.
	b.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			b.sweep(ctx)
		case n := <-notify:
			if n == nil { // reconnected
				b.sweep(ctx)
				continue
			}
			b.notified(n.Extra)
		}
	}
}

func (b *Bus) notified(payload string) {
	n, err := store.ParseSignalNotice(payload)
	if err != nil {
		b.log.Warn("signal listener: bad notification", "payload", payload)
		return
	}
	if b.only != nil && !b.only[n.Schema] {
		return
	}
	for _, w := range b.workers() {
		if w.wants(n.Name) {
			w.mark(n.Schema)
		}
	}
}

// sweep marks every tenant for every subscriber.
func (b *Bus) sweep(ctx context.Context) {
	ws := b.workers()
	if len(ws) == 0 {
		return
	}
	tenants, err := b.tenants(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("signal sweep: list tenants", "err", err)
		}
		return
	}
	for _, w := range ws {
		for _, t := range tenants {
			w.mark(t.Schema())
		}
	}
}
