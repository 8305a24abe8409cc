package handlers

import (
	"html"
	"html/template"
	"strings"

	"fleetprompt/store"
)

// The forum's fragment blocks live in views/templates/partials/forum.html,
// so every page (and the live layer) can render them. Each takes one of
// the plain structs below.

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
	v := forumPostView{Post: p, Moderator: moderator, Thread: threadOf(th)}
	if p.Visible() || moderator {
		v.HTML = p.HTML()
	}
	return v
}

// IsSolution and IsOpening place the post in its thread.
func (v forumPostView) IsSolution() bool { return v.Post.ID == v.Thread.SolutionID }

// IsOpening reports whether the post opens its thread.
func (v forumPostView) IsOpening() bool { return v.Post.ID == v.Thread.FirstPostID }

// MayReact: a published post of a thread that is not archived.
func (v forumPostView) MayReact() bool {
	return v.Post.Visible() && v.Thread.State != store.ThreadArchived
}

// AuthorMayEdit: what the author (not a moderator) may edit: a published
// post of an open thread, written by a person.
func (v forumPostView) AuthorMayEdit() bool {
	return v.Post.Visible() && v.Thread.State == store.ThreadOpen && v.Post.AuthorUserID() != 0
}

// MaySolve: a published reply of a thread that is not archived can be
// marked (by the starter or a moderator).
func (v forumPostView) MaySolve() bool {
	return v.Post.Visible() && !v.IsOpening() && v.Thread.State != store.ThreadArchived && v.Thread.FirstPostID != ""
}

// IfAuthor and IfNotAuthor open a condition on the viewer being the
// post's author; IfStarter on their having started the thread. End
// closes the innermost.
func (v forumPostView) IfAuthor() template.HTML { return condMarkup(userCond(v.Post.AuthorUserID())) }

// IfNotAuthor opens the opposite of IfAuthor.
func (v forumPostView) IfNotAuthor() template.HTML {
	return condMarkup("!" + userCond(v.Post.AuthorUserID()))
}

// IfStarter opens a condition on the viewer having started the thread.
func (v forumPostView) IfStarter() template.HTML { return condMarkup(userCond(v.Thread.StarterID)) }

// End closes a condition.
func (forumPostView) End() template.HTML { return endMarkup }

// Reactions are the post's reaction buttons, in the kinds' order.
func (v forumPostView) Reactions() []reactionView {
	out := make([]reactionView, len(store.ReactionKinds))
	for i, k := range store.ReactionKinds {
		out[i] = reactionView{ReactionKind: k, PostID: v.Post.ID, Count: v.Post.Reactions[k.Name]}
	}
	return out
}

// reactionView is one reaction button of a post.
type reactionView struct {
	store.ReactionKind
	PostID string
	Count  int
}

// CountID is the element id of the count, which live events replace.
func (r reactionView) CountID() string { return "rc-" + r.PostID + "-" + r.Name }

// Chosen opens the condition "the viewer chose this" (NotChosen its
// opposite): only a kind somebody chose can be the viewer's.
func (r reactionView) Chosen() template.HTML { return condMarkup("r" + r.PostID + "." + r.Name) }

// NotChosen opens the opposite of Chosen.
func (r reactionView) NotChosen() template.HTML { return condMarkup("!r" + r.PostID + "." + r.Name) }

// End closes a condition.
func (reactionView) End() template.HTML { return endMarkup }

// threadStatusView is the data of the "thread_status" block: the status
// badge and, for moderators, the lock or unlock form.
type threadStatusView struct {
	Thread    store.ForumThread
	Moderator bool
	Pending   string // "lock requested" after a moderator asked
	// placeholderKeys: see forumPostView (the cached thread page).
	placeholderKeys bool
}

// NewKey is a fresh idempotency key (see forumPostView.NewKey).
func (v threadStatusView) NewKey() string {
	if v.placeholderKeys {
		return keyPlaceholder
	}
	return newModerationKey()
}

// threadRowView is the data of the "forum_thread_row" block: one line of a
// thread list (the forum index and a category page).
type threadRowView struct {
	Thread       store.ForumThread
	ShowCategory bool
}

// auditRowView is the data of the "audit_row" block.
type auditRowView struct {
	Entry store.AuditEntry
}

// newModerationKey is a fresh key for markup rendered once (a fragment
// pushed live, a moderation's answer); cached markup gets keyStamp's.
func newModerationKey() string {
	var k keyStamp
	return string(k.append(nil))
}

// replyKey is the reply form's hidden idempotency key: fresh on every
// render (a placeholder in a cached page, stamped per view), and after an
// htmx reply sent out of band to replace the one just used.
type replyKey struct {
	Key string
	OOB bool
}

// ReplyKey is the reply form's key for this render of the thread page.
func (d forumThreadData) ReplyKey() replyKey {
	if d.Status.placeholderKeys {
		return replyKey{Key: keyPlaceholder}
	}
	return replyKey{Key: newModerationKey()}
}

// threadSolutionView is the data of the "thread_solution" block: a
// solved thread's answer, shown at the top of its page. The block is
// always there (empty while unsolved), so a live event can fill it.
type threadSolutionView struct {
	ThreadID string
	Solution *store.SolvedPost
}

// Excerpt is the start of the answer as plain text.
func (v threadSolutionView) Excerpt() string {
	if v.Solution == nil {
		return ""
	}
	return excerpt(stripTags(string(v.Solution.Post.HTML())), 280)
}

// stripTags is the text of safe HTML (the renderer's own output):
// tags dropped, the escapes it writes undone.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}
