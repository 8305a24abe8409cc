package handlers

import (
	"context"
	"errors"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// liveThread: a new thread is prepended to its category's list; a lock,
// unlock, pin or unpin swaps the thread page's status (a lock also turns
// the reply form's button off); a solve or unsolve fills the answer at
// the top and moves the posts' marks.
func (h *Handler) liveThread(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
	id := payloadOf(sig).ThreadID
	if id == "" {
		id = sig.SubjectID
	}
	th, err := h.store.ForumThread(ctx, t, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	audit, err := h.auditRow(ctx, t, sig)
	if err != nil {
		return nil, err
	}
	var out []live.Fragment
	switch sig.Name {
	case "forum.thread.created":
		row, err := h.block("forum_thread_row", threadRowView{Thread: th})
		if err != nil {
			return nil, err
		}
		out = append(out, live.Fragment{Kind: live.KindCategory, HTML: row})
		return withAuditRow(out, audit), nil
	case "forum.thread.solved", "forum.thread.unsolved":
		if out, err = h.liveSolution(ctx, t, th, sig); err != nil {
			return nil, err
		}
		return withAuditRow(out, audit), nil
	}
	member, err := h.block("thread_status", threadStatusView{Thread: th})
	if err != nil {
		return nil, err
	}
	mod, err := h.block("thread_status", threadStatusView{Thread: th, Moderator: true})
	if err != nil {
		return nil, err
	}
	reply, err := h.liveReplyForm(th, sig.Name)
	if err != nil {
		return nil, err
	}
	member, mod = append(member, reply...), append(mod, reply...)
	return withAuditRow(append(out,
		live.Fragment{Kind: live.KindThread, HTML: member, For: live.MembersOnly},
		live.Fragment{Kind: live.KindThread, HTML: mod, For: live.ModeratorsOnly},
	), audit), nil
}
