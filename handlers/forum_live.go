package handlers

import (
	"context"
	"errors"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// The forum's live fragments (registered in events_render.go): what a
// thread page's open copies receive for each forum signal. One event is
// rendered per audience, never per viewer, so fragments are resolved for
// a neutral viewer (forum_viewer_resolve.go) and, where a viewer's own state
// matters, only the shared part is replaced: a reaction replaces its
// count, not the buttons that show which ones you chose; an edit replaces
// the text, not the actions under it.

// livePost renders forum.post.* signals.
func (h *Handler) livePost(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
	p := payloadOf(sig)
	id := p.PostID
	if id == "" && sig.SubjectType == store.SubjectForumPost {
		id = sig.SubjectID
	}
	switch sig.Name {
	case "forum.post.flagged":
		// For moderators only (the queue), never on the thread's pages.
		return nil, nil
	case "forum.post.reacted", "forum.post.unreacted":
		return h.liveReaction(ctx, t, id, sig)
	}
	audit, err := h.auditRow(ctx, t, sig)
	if err != nil {
		return nil, err
	}
	post, err := h.store.ForumPost(ctx, t, id)
	if errors.Is(err, store.ErrNotFound) {
		return withAuditRow(nil, audit), nil
	} else if err != nil {
		return nil, err
	}
	th, err := h.store.ForumThread(ctx, t, post.ThreadID)
	if err != nil {
		return nil, err
	}
	if sig.Name == "forum.post.edited" {
		html, err := h.block("post_content", postView(post, th, false))
		if err != nil {
			return nil, err
		}
		if !post.Visible() {
			html = nil // members have no text to replace; moderators see it on reload
		}
		return withAuditRow([]live.Fragment{{Kind: live.KindThread, HTML: oob(html, "outerHTML")}}, audit), nil
	}
	member, err := h.block("forum_post", postView(post, th, false))
	if err != nil {
		return nil, err
	}
	mod, err := h.block("forum_post", postView(post, th, true))
	if err != nil {
		return nil, err
	}
	member, mod = neutral(member), neutral(mod)
	if sig.Name != "forum.post.created" {
		// The post is already on the page: replace it (or, for members,
		// remove it when it is no longer visible).
		if post.Visible() {
			member = oob(member, "outerHTML")
		} else {
			member = oob([]byte(`<article id="post-`+post.ID+`"></article>`), "delete")
		}
		mod = oob(mod, "outerHTML")
	} else if post.ExecutionID.Valid {
		// An agent's answer: it replaces the text it streamed.
		gone := oob([]byte(`<article id="agent-answer-`+post.ExecutionID.String+`"></article>`), "delete")
		member, mod = append(gone, member...), append(append([]byte(nil), gone...), mod...)
	}
	return withAuditRow([]live.Fragment{
		{Kind: live.KindThread, HTML: member, For: live.MembersOnly},
		{Kind: live.KindThread, HTML: mod, For: live.ModeratorsOnly},
	}, audit), nil
}
