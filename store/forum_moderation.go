package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// The forum moderation kinds of SPEC §7 (and §16's pin/unpin later). The
// directive engine (jobs/executor) runs them through the mutators below.
const (
	DirectiveThreadLock   = "forum.thread.lock"
	DirectiveThreadUnlock = "forum.thread.unlock"
	DirectivePostHide     = "forum.post.hide"
	DirectivePostUnhide   = "forum.post.unhide"
	DirectivePostDelete   = "forum.post.delete"
)

// ForumModeration is a directive's payload: which thread or post.
type ForumModeration struct {
	ThreadID string `json:"thread_id,omitempty"`
	PostID   string `json:"post_id,omitempty"`
}

// SetThreadLockTx moves a thread open → locked (lock) or locked → open
// (unlock) and emits forum.thread.locked|unlocked. A thread already in the
// wanted state is left alone without a signal, so a retried directive
// changes nothing twice. The row lock orders it against replies.
func (s *Store) SetThreadLockTx(ctx context.Context, tx *sqlx.Tx, t Tenant, dir Directive, threadID string, lock bool) (changed bool, err error) {
	from, to, signal := ThreadOpen, ThreadLocked, "forum.thread.locked"
	if !lock {
		from, to, signal = ThreadLocked, ThreadOpen, "forum.thread.unlocked"
	}
	if !IsUUID(threadID) {
		return false, ErrNotFound
	}
	var th ForumThread
	err = tx.GetContext(ctx, &th, t.SQL(threadSelect+`WHERE th.id = $1 FOR UPDATE OF th`), threadID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	} else if err != nil {
		return false, fmt.Errorf("lock thread row %s: %w", threadID, err)
	}
	if th.Status != from {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_threads SET status = $2, updated_at = now() WHERE id = $1`), th.ID, to); err != nil {
		return false, fmt.Errorf("set thread %s %s: %w", th.ID, to, err)
	}
	return true, s.emitForum(ctx, tx, t, forumFact{Name: signal, ActorUserID: dir.RequestedByUserID, DirectiveID: dir.ID,
		SubjectType: SubjectForumThread, SubjectID: th.ID,
		Payload: map[string]any{"thread_id": th.ID, "status": to, "category_id": th.CategoryID, "category_slug": th.CategorySlug}})
}

// postTransitions lists, per moderation action, the statuses a post may
// leave and the one it takes. Restoring (unhide) works for hidden and
// deleted posts alike: SPEC §8 lets moderators restore both.
var postTransitions = map[string]struct {
	from   []string
	to     string
	signal string
}{
	DirectivePostHide:   {[]string{PostPublished}, PostHidden, "forum.post.hidden"},
	DirectivePostUnhide: {[]string{PostHidden, PostDeleted}, PostPublished, "forum.post.unhidden"},
	DirectivePostDelete: {[]string{PostPublished, PostHidden}, PostDeleted, "forum.post.deleted"},
}

// SetPostStatusTx applies a post moderation action (one of the
// DirectivePost* kinds). The thread's
// post_count counts published posts, so it moves when a post enters or
// leaves "published". A post not in a status the action applies to is
// left alone without a signal.
func (s *Store) SetPostStatusTx(ctx context.Context, tx *sqlx.Tx, t Tenant, dir Directive, postID, action string) (changed bool, err error) {
	tr, ok := postTransitions[action]
	if !ok {
		return false, fmt.Errorf("unknown post moderation %q", action)
	}
	if !IsUUID(postID) {
		return false, ErrNotFound
	}
	var p struct {
		ID       string `db:"id"`
		ThreadID string `db:"thread_id"`
		Status   string `db:"status"`
		Slug     string `db:"category_slug"`
	}
	// Lock the thread before the post, in the same order as replies do, so
	// a reply and a moderation of the same thread cannot deadlock.
	err = tx.GetContext(ctx, &p, t.SQL(`SELECT p.id, p.thread_id, p.status, c.slug AS category_slug
		FROM {tenant}.forum_posts p
		JOIN {tenant}.forum_threads th ON th.id = p.thread_id
		JOIN {tenant}.forum_categories c ON c.id = th.category_id
		WHERE p.id = $1 FOR UPDATE OF th, p`), postID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	} else if err != nil {
		return false, fmt.Errorf("lock post %s: %w", postID, err)
	}
	allowed := false
	for _, f := range tr.from {
		allowed = allowed || p.Status == f
	}
	if !allowed {
		return false, nil
	}
	delta := 0
	if p.Status == PostPublished {
		delta = -1
	} else if tr.to == PostPublished {
		delta = 1
	}
	if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_posts SET status = $2, updated_at = now() WHERE id = $1`), p.ID, tr.to); err != nil {
		return false, fmt.Errorf("set post %s %s: %w", p.ID, tr.to, err)
	}
	if delta != 0 {
		if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_threads SET post_count = post_count + $2, updated_at = now() WHERE id = $1`), p.ThreadID, delta); err != nil {
			return false, fmt.Errorf("recount thread %s: %w", p.ThreadID, err)
		}
	}
	return true, s.emitForum(ctx, tx, t, forumFact{Name: tr.signal, ActorUserID: dir.RequestedByUserID, DirectiveID: dir.ID,
		SubjectType: SubjectForumPost, SubjectID: p.ID,
		Payload: map[string]any{"post_id": p.ID, "thread_id": p.ThreadID, "status": tr.to, "category_slug": p.Slug}})
}

// ForumModerationResult is a moderation directive's result.
type ForumModerationResult struct {
	ThreadID string `json:"thread_id,omitempty"`
	PostID   string `json:"post_id,omitempty"`
	// Changed is false when the thread or post was already in the wanted
	// state (a second lock, a retried attempt): nothing was written.
	Changed bool `json:"changed"`
}

// RequestForumModeration records a moderation directive (kind is one of
// the forum.* kinds) about a thread, or a post when m.PostID is set. key
// is the form's idempotency key: a resent form returns the directive it
// made. done reports that directive already succeeded, so the caller need
// not say "requested".
func (s *Store) RequestForumModeration(ctx context.Context, t Tenant, userID int64, kind string, m ForumModeration, key string) (dir Directive, done bool, err error) {
	if _, ok := postTransitions[kind]; !ok && kind != DirectiveThreadLock && kind != DirectiveThreadUnlock {
		return dir, false, Invalid("kind", fmt.Sprintf("%q is not a forum moderation", kind))
	}
	subject := Subject{Type: SubjectForumThread, ID: m.ThreadID}
	if m.PostID != "" {
		subject = Subject{Type: SubjectForumPost, ID: m.PostID}
	}
	if len(key) > 200 {
		return dir, false, Invalid("idempotency_key", "is too long")
	}
	dir, _, err = s.RequestDirective(ctx, t, DirectiveRequest{Kind: kind, Payload: m, IdempotencyKey: key, UserID: userID, Subject: subject})
	if err != nil {
		return dir, false, err
	}
	// A key reused for another subject is not a re-submission of this form.
	if dir.Subject() != subject {
		return dir, false, fmt.Errorf("idempotency key already used for another %s: %w", dir.SubjectType, ErrConflict)
	}
	return dir, dir.Status == DirectiveSucceeded, nil
}
