package live

import (
	"context"
)

// replayPage is how many signals one replay step reads (and one write
// at most carries).
const replayPage = 500

// replayer reads, page by page, the events of one stream's topic after
// its cursor, oldest first. It scans the tenant's signals in seq order
// and keeps those whose topics (computed exactly as for live delivery)
// include the stream's, so a resumed stream gets what a connected one
// got.
type replayer struct {
	h         *Hub
	s         *subscriber
	res       *resolver
	after     int64 // the last seq scanned
	scanned   int
	done      bool
	moderator bool
}

func newReplayer(h *Hub, s *subscriber, after int64) *replayer {
	return &replayer{h: h, s: s, res: newResolver(h.store, s.tenant), after: after, moderator: s.moderator}
}

// next returns the next page's events; done is set after the last page.
// A client further behind than ReplayLimit gets a "live.reload" event
// instead of the rest, and its cursor moves on so the reconnect after
// the reload is cheap.
func (r *replayer) next(ctx context.Context) ([]*event, error) {
	sigs, err := r.h.store.SignalsAfter(ctx, r.s.tenant, r.after, replayPage)
	if err != nil {
		return nil, err
	}
	var out []*event
	topic := r.s.topic
	for _, sig := range sigs {
		r.after = sig.Seq
		if !hasTopic(r.res.topicsOf(ctx, sig), topic) {
			continue
		}
		evs, err := r.h.renderSignal(ctx, r.s.tenant, sig, []Topic{topic})
		if err != nil {
			return nil, err
		}
		if r.moderator {
			out = append(out, evs[topic].moderator)
		} else {
			out = append(out, evs[topic].member)
		}
	}
	r.scanned += len(sigs)
	switch {
	case len(sigs) < replayPage:
		r.done = true
	case r.scanned >= r.h.cfg.ReplayLimit:
		r.done = true
		out = append(out, newEvent(r.after, "live.reload", []byte(reloadHTML)))
	}
	return out, nil
}

const reloadHTML = `<p class="notice live-reload" data-testid="live-reload">This page is out of date. <a href="">Reload it</a> to catch up.</p>`

func hasTopic(ts []Topic, t Topic) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}
