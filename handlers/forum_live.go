package handlers

import (
	"context"
	"errors"
	"strings"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// The forum's live fragments (registered in events_render.go): what a
// thread page's open copies receive for each forum signal. One event is
// rendered per audience, never per viewer, so fragments are resolved for
// a neutral viewer (forum_viewer.go) and, where a viewer's own state
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

// liveReplyForm: a lock disables the reply button of every open copy
// (the server refuses the reply anyway) and says why, leaving the text
// typed so far; an unlock enables it again, and tells a page drawn while
// the thread was locked, which has no form, to reload.
func (h *Handler) liveReplyForm(th store.ForumThread, name string) ([]byte, error) {
	switch name {
	case "forum.thread.locked":
		b, err := h.block("reply_actions", map[string]any{"Open": false})
		return oob(b, "outerHTML"), err
	case "forum.thread.unlocked":
		if !th.Open() {
			return nil, nil // its category is archived
		}
		actions, err := h.block("reply_actions", map[string]any{"Open": true})
		if err != nil {
			return nil, err
		}
		reopened, err := h.block("reply_reopened", th.ID)
		if err != nil {
			return nil, err
		}
		return append(oob(actions, "outerHTML"), oob(reopened, "outerHTML")...), nil
	}
	return nil, nil
}

// liveSolution is the answer at the top (per audience: the page it links
// to counts the posts each sees) and the "Solution" marks of the posts
// that gained and lost it.
func (h *Handler) liveSolution(ctx context.Context, t store.Tenant, th store.ForumThread, sig store.Signal) ([]live.Fragment, error) {
	var p struct {
		PostID   string `json:"post_id"`
		Previous string `json:"previous_post_id"`
	}
	sig.DecodePayload(&p)
	var marks []byte
	for _, pid := range []string{p.PostID, p.Previous} {
		if !store.IsUUID(pid) {
			continue
		}
		post := store.ForumPost{ID: strings.ToLower(pid)}
		b, err := h.block("solution_mark", forumPostView{Post: post, Thread: threadOf(th)})
		if err != nil {
			return nil, err
		}
		marks = append(marks, oob(b, "outerHTML")...)
	}
	var out []live.Fragment
	for _, mod := range []bool{false, true} {
		sol, err := h.store.SolutionOf(ctx, t, th, mod)
		if err != nil {
			return nil, err
		}
		b, err := h.block("thread_solution", threadSolutionView{ThreadID: th.ID, Solution: sol})
		if err != nil {
			return nil, err
		}
		who := live.MembersOnly
		if mod {
			who = live.ModeratorsOnly
		}
		out = append(out, live.Fragment{Kind: live.KindThread, HTML: append(oob(b, "outerHTML"), marks...), For: who})
	}
	return out, nil
}
