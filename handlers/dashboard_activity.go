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

// activityFeedSize is how many signals the feed shows at load, found
// among the latest activityScan: members' private chat signals are
// skipped (live.Private, views.PrivateSignal), so a busy chat leaves the feed shorter rather
// than showing them.
const (
	activityFeedSize = 20
	activityScan     = 200
)

// loadActivity reads the feed in words; raw shows the way to the raw
// signal in the signal log (owners, admins). The cursor is the newest seq
// read, shown or skipped: seqs become visible in commit order, so nothing
// at or below it is missing from the list (beyond its length), and the
// stream sends what came after (never chat; someone's notifications as
// an inert event). Private signals (views.PrivateSignal: chat, someone's
// notifications) are never shown.
func (h *Handler) loadActivity(ctx context.Context, t store.Tenant, raw bool) (activityFeed, error) {
	latest, err := h.store.LatestSignals(ctx, t, activityScan)
	if err != nil {
		return activityFeed{}, err
	}
	var f activityFeed
	var sigs []store.Signal
	for _, s := range latest {
		f.Seq = max(f.Seq, s.Seq)
		// Twice the feed's length is read in words: some are left out
		// (a thread's opening post, said by its "started").
		if !live.Private(s) && !views.PrivateSignal(s.Name, s.SubjectType) && len(sigs) < 2*activityFeedSize {
			sigs = append(sigs, s)
		}
	}
	rows, err := h.sentences(ctx, t, sigs, raw)
	if err != nil {
		return activityFeed{}, err
	}
	for _, r := range rows {
		if !r.Opening && len(f.Rows) < activityFeedSize {
			f.Rows = append(f.Rows, r)
		}
	}
	return f, nil
}
