package handlers

import (
	"context"
	"errors"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// liveReaction replaces the reaction's count on every open copy; the
// buttons (which show the viewer's own choice) stay. Reactions are not
// part of the audit trail.
func (h *Handler) liveReaction(ctx context.Context, t store.Tenant, postID string, sig store.Signal) ([]live.Fragment, error) {
	var p struct {
		Kind string `json:"kind"`
	}
	sig.DecodePayload(&p)
	post, err := h.store.ForumPost(ctx, t, postID)
	if errors.Is(err, store.ErrNotFound) || !store.ValidReactionKind(p.Kind) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	r := reactionView{PostID: post.ID, Count: post.Reactions[p.Kind]}
	for _, k := range store.ReactionKinds {
		if k.Name == p.Kind {
			r.ReactionKind = k
		}
	}
	html, err := h.block("reaction_count", r)
	if err != nil {
		return nil, err
	}
	return []live.Fragment{{Kind: live.KindThread, HTML: oob(html, "outerHTML")}}, nil
}

// withAuditRow adds the audit row, if there is one, to out.
func withAuditRow(out []live.Fragment, audit []byte) []live.Fragment {
	if audit == nil {
		return out
	}
	return append(out, live.Fragment{Kind: live.KindThread, HTML: audit})
}
