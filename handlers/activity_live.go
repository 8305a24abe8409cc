package handlers

import (
	"context"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
	"fleetprompt/views"
)

// Readable activity, live: the dashboard feed (topic "tenant") gets each
// signal as the same sentence a reload shows (activity_row), not the
// hub's generic row; a private signal (chat, someone's notifications)
// gets an inert event there, so it moves the page's cursor and shows
// nothing. Each person's "me" stream gets their badge when their
// notifications change.

// sentenceFamilies are the signal families with no renderer of their
// own: they get just the feed's sentence.
var sentenceFamilies = []string{"forum.", "agent.", "member.", "api_key.", "webhook.", "chat."}

func (h *Handler) registerActivityLive() {
	for _, family := range sentenceFamilies {
		h.live.Render(family, h.withSentence(nil))
	}
	h.live.Render("notification.", h.liveInbox)
}

// withSentence adds the feed's sentence to what fn (may be nil) renders.
func (h *Handler) withSentence(fn live.RenderFunc) live.RenderFunc {
	return func(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
		var out []live.Fragment
		if fn != nil {
			var err error
			if out, err = fn(ctx, t, sig); err != nil {
				return nil, err
			}
		}
		if !live.Wants(ctx, live.KindTenant) {
			return out, nil // nobody here follows the feed: no sentence to look up
		}
		rows, err := h.feedRows(ctx, t, sig)
		return append(out, rows...), err
	}
}

// feedRows is sig's row of the dashboard feed: for members, and for
// moderators with the way to the raw signal.
func (h *Handler) feedRows(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
	if views.PrivateSignal(sig.Name, sig.SubjectType) {
		return []live.Fragment{{Kind: live.KindTenant}}, nil
	}
	ss, err := h.sentences(ctx, t, []store.Signal{sig}, false)
	if err != nil {
		return nil, err
	}
	if ss[0].Opening {
		// Left out of the feed as at load: its thread's "started" says it.
		return []live.Fragment{{Kind: live.KindTenant}}, nil
	}
	member, err := h.block("activity_row", ss[0])
	if err != nil {
		return nil, err
	}
	ss[0].Raw = true
	mod, err := h.block("activity_row", ss[0])
	if err != nil {
		return nil, err
	}
	return []live.Fragment{{Kind: live.KindTenant, HTML: member, For: live.MembersOnly},
		{Kind: live.KindTenant, HTML: mod, For: live.ModeratorsOnly}}, nil
}

// liveInbox: a person's notifications changed (notification.created or
// .read, whose subject is the person): their badge, with the count as
// it is now, on their own "me" stream only; nothing on the feed.
func (h *Handler) liveInbox(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
	out := []live.Fragment{{Kind: live.KindTenant}}
	uid, err := notifiedUser(sig)
	if err != nil {
		return out, nil // not a person's: nobody's badge moves
	}
	n, err := h.unreadFresh(ctx, t, uid)
	if err != nil {
		return nil, err
	}
	html, err := h.block("inbox_badge", views.Inbox{Unread: n})
	if err != nil {
		return nil, err
	}
	return append(out, live.Fragment{Kind: live.KindMe, HTML: html}), nil
}
