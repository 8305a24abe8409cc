package handlers

import (
	"strconv"
	"strings"

	"fleetprompt/store"
)

// The thread page is mostly its posts and audit rows, and each renders the
// same way on every view until the row changes: executing their template
// blocks was most of the page's CPU (html/template calls every escaper
// and function through reflection, ~60 calls for a post with moderation
// forms). So the page renders each post and audit row once, from the same
// "forum_post" and "audit_row" blocks the live layer uses, into the
// thread cache's fragment memo (thread_cache.go), keyed by everything the
// block reads.
//
// The one part that must differ per render is a moderation form's
// idempotency key (a resent form reuses its key, a new render gets new
// ones). Cached markup holds a placeholder for each key, and every page
// written stamps fresh keys over the placeholders (keyStamp).

// keyPlaceholder stands for an idempotency key in cached markup: it has a
// key's shape (32 hex digits), so it comes out of the attribute escaper
// unchanged, and a random key equal to it would take 2^128 tries.
const keyPlaceholder = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"

// postFragmentKey names everything the "forum_post" block reads (an edit
// changes the revision, a moderation the status, a reaction the counts,
// the thread its state, starter and solution: updated_at adds nothing).
// The body is named by the revision, not by its text: a post's body
// changes only by an edit, which bumps the revision (store.EditPost), so
// a page can tell whether its posts are in the memo before reading their
// bodies.
func postFragmentKey(v forumPostView) string {
	p, th := v.Post, v.Thread
	var b strings.Builder
	b.Grow(240 + len(p.AuthorName))
	for _, s := range []string{"post", p.ID, p.ThreadID, p.Status, strconv.FormatInt(p.CreatedAt.UnixNano(), 36),
		strconv.FormatBool(v.showsBody()), strconv.FormatBool(v.Moderator),
		p.AuthorType, p.AuthorID.String, p.ExecutionID.String, strconv.Itoa(p.Revision),
		strconv.FormatInt(p.EditedAt.Time.UnixNano(), 36), strconv.FormatBool(p.FlagHidden),
		th.State, strconv.FormatInt(th.StarterID, 10), strconv.FormatBool(v.IsSolution()), strconv.FormatBool(v.IsOpening()),
		strconv.FormatBool(th.FirstPostID == "")} {
		b.WriteString(s)
		b.WriteByte(' ')
	}
	for _, k := range store.ReactionKinds {
		b.WriteString(strconv.Itoa(p.Reactions[k.Name]))
		b.WriteByte(' ')
	}
	b.WriteString(p.AuthorName) // last: free text
	return b.String()
}

// auditFragmentKey names everything the "audit_row" block reads.
func auditFragmentKey(e store.AuditEntry) string {
	var b strings.Builder
	for _, s := range []string{"audit", e.Kind, e.Key, e.Name, strconv.FormatInt(e.At.UnixNano(), 36),
		e.ActorType.String, e.ActorID.String, e.SubjectType.String, e.SubjectID.String, e.Status,
		strconv.FormatInt(e.DoneAt.Time.UnixNano(), 36), e.ActorName, e.Error} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, f := range e.Facts {
		b.WriteString(strconv.FormatInt(f.Seq, 36))
		b.WriteByte(' ')
		b.WriteString(f.Name)
		b.WriteByte(0)
	}
	return b.String()
}
