package handlers

import (
	"html/template"

	"fleetprompt/store"
)

// The forum's fragment blocks live in views/templates/partials/forum.html,
// so every page (and the live layer) can render them. Each takes one of
// the plain structs below and in forum_views_*.go.

// forumPostView is the data of the "forum_post" block: one post, or for a
// moderator the placeholder of a hidden or deleted one. Its element id is
// "post-<uuid>", stable, so a live event for a post already on the page
// can be recognised and skipped. The parts that belong to one viewer (your
// Edit link, your reactions) are wrapped in viewer conditions
// (forum_viewer.go), so one rendering serves every member.
type forumPostView struct {
	Post store.ForumPost
	// HTML is the post's Markdown, rendered safely (when it was written).
	HTML template.HTML
	// Moderator adds the moderation forms and shows placeholders of
	// hidden and deleted posts; members never get those posts at all.
	Moderator bool
	// Pending names a moderation just requested for this post, shown
	// until the directive has run ("hide requested").
	Pending string
	// Thread is what the post's actions depend on.
	Thread postThread
	// Error is why a reaction was refused (an htmx answer).
	Error string
	// placeholderKeys renders keyPlaceholder for the keys, for markup
	// that is cached and stamped with fresh keys on each use (keyStamp).
	placeholderKeys bool
}

// postThread is the thread around a post, as far as its block reads it.
type postThread struct {
	State       string // open, locked or archived
	StarterID   int64  // 0: nobody (or the system) started it
	SolutionID  string
	FirstPostID string
}

func threadOf(th store.ForumThread) postThread {
	return postThread{State: th.State(), StarterID: th.CreatedByUserID.Int64,
		SolutionID: th.SolutionPostID.String, FirstPostID: th.FirstPostID.String}
}

// NewKey is a fresh idempotency key for one moderation form: each render
// gets new keys, so "hide, unhide, hide again" are three directives,
// while a resent form reuses its key and so its directive.
func (v forumPostView) NewKey() string {
	if v.placeholderKeys {
		return keyPlaceholder
	}
	return newModerationKey()
}

func postView(p store.ForumPost, th store.ForumThread, moderator bool) forumPostView {
	v := postMeta(p, th, moderator)
	if v.showsBody() {
		v.HTML = p.HTML()
	}
	return v
}

// postMeta is postView without the body (enough for its fragment's key).
func postMeta(p store.ForumPost, th store.ForumThread, moderator bool) forumPostView {
	return forumPostView{Post: p, Moderator: moderator, Thread: threadOf(th)}
}

// showsBody says the post's body is on the page: members see published
// posts' bodies, moderators every post's.
func (v forumPostView) showsBody() bool { return v.Post.Visible() || v.Moderator }
