package handlers

import (
	"context"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
	"fleetprompt/views"
)

// dashboardData is the dashboard page's Data.
type dashboardData struct {
	Activity activityFeed
}

// activityFeed is the dashboard's "Recent activity": the tenant's latest
// signals in words (views.Describe), newest first, and the seq the live
// stream resumes after.
type activityFeed struct {
	Rows []views.Sentence
	Seq  int64
}

// Events is the feed's sse-swap list: every signal name.
func (activityFeed) Events() string { return live.FeedSwap() }

// activityFeedSize is how many signals the feed shows at load.
const activityFeedSize = 20

// loadActivity reads the feed; raw shows the way to the raw signal in
// the signal log (owners, admins). The cursor is the newest seq shown:
// seqs become visible in commit order, so nothing at or below it is
// missing from the list (beyond its length), and the stream sends what
// came after (a private signal after it is sent as an inert comment).
// Private signals (chat, someone's notifications) are never shown, so
// the window reads a few more than it shows.
func (h *Handler) loadActivity(ctx context.Context, t store.Tenant, raw bool) (activityFeed, error) {
	sigs, err := h.store.LatestSignals(ctx, t, 3*activityFeedSize)
	if err != nil {
		return activityFeed{}, err
	}
	var f activityFeed
	var shown []store.Signal
	for _, s := range sigs {
		if !views.PrivateSignal(s.Name, s.SubjectType) && len(shown) < activityFeedSize {
			shown = append(shown, s)
			f.Seq = max(f.Seq, s.Seq)
		}
	}
	if len(shown) == 0 && len(sigs) > 0 {
		f.Seq = sigs[0].Seq // newest first
	}
	if f.Rows, err = h.sentences(ctx, t, shown, raw); err != nil {
		return activityFeed{}, err
	}
	return f, nil
}
