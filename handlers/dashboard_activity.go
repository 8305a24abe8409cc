package handlers

import (
	"context"
	"strconv"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// dashboardData is the dashboard page's Data.
type dashboardData struct {
	Activity activityFeed
}

// activityFeed is the dashboard's "Recent activity": the tenant's latest
// signals, newest first, and the seq the live stream resumes after.
type activityFeed struct {
	Rows []live.ActivityRow
	Seq  int64
}

// Events is the feed's sse-swap list: every signal name.
func (activityFeed) Events() string { return live.FeedSwap() }

// activityFeedSize is how many signals the feed shows at load, found
// among the latest activityScan: members' private chat signals are
// skipped (live.Private), so a busy chat leaves the feed shorter rather
// than showing them.
const (
	activityFeedSize = 20
	activityScan     = 200
)

// loadActivity reads the feed. The cursor is the newest seq read, shown
// or skipped: seqs become visible in commit order, so nothing at or below
// it is missing from the list (beyond its length), and the stream sends
// what came after (never the private ones).
func (h *Handler) loadActivity(ctx context.Context, t store.Tenant) (activityFeed, error) {
	latest, err := h.store.LatestSignals(ctx, t, activityScan)
	if err != nil {
		return activityFeed{}, err
	}
	var f activityFeed
	var sigs []store.Signal
	for _, s := range latest {
		f.Seq = max(f.Seq, s.Seq)
		if !live.Private(s) && len(sigs) < activityFeedSize {
			sigs = append(sigs, s)
		}
	}
	var ids []int64
	for _, s := range sigs {
		if s.ActorType == "user" {
			if id, err := strconv.ParseInt(s.ActorID, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
	}
	names, err := h.store.UserNames(ctx, ids)
	if err != nil {
		return activityFeed{}, err
	}
	for _, s := range sigs {
		f.Rows = append(f.Rows, live.Activity(s, names))
	}
	return f, nil
}
