package handlers

import (
	"html/template"

	"fleetprompt/store"
)

// The forum's fragment blocks live in views/templates/partials/forum.html,
// so every page (and the live layer) can render them. Each takes one of
// the plain structs below.

// forumPostView is the data of the "forum_post" block: one post, or for a
// moderator the placeholder of a hidden or deleted one. Its element id is
// "post-<uuid>", stable, so a live event for a post already on the page
// can be recognised and skipped.
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
	// placeholderKeys renders keyPlaceholder for the keys, for markup
	// that is cached and stamped with fresh keys on each use (keyStamp).
	placeholderKeys bool
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

func postView(p store.ForumPost, moderator bool) forumPostView {
	v := forumPostView{Post: p, Moderator: moderator}
	if p.Visible() || moderator {
		v.HTML = p.HTML()
	}
	return v
}

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
