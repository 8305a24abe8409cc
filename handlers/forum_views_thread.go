package handlers

import "fleetprompt/store"

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
