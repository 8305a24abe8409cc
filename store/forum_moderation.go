package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
)

// The forum moderation kinds of SPEC §7 and §16. The directive engine
// (jobs/executor) runs them through the mutators below.
const (
	DirectiveThreadLock   = "forum.thread.lock"
	DirectiveThreadUnlock = "forum.thread.unlock"
	DirectiveThreadPin    = "forum.thread.pin"
	DirectiveThreadUnpin  = "forum.thread.unpin"
	DirectivePostHide     = "forum.post.hide"
	DirectivePostUnhide   = "forum.post.unhide"
	DirectivePostDelete   = "forum.post.delete"
	// DirectivePostRestore brings a deleted post back: delete is final
	// for unhide (SPEC §16), so only this explicit kind undoes it.
	DirectivePostRestore = "forum.post.restore"
)

// threadModerations are the kinds about a thread rather than a post.
var threadModerations = map[string]bool{DirectiveThreadLock: true, DirectiveThreadUnlock: true,
	DirectiveThreadPin: true, DirectiveThreadUnpin: true}

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
	th, err := s.lockThreadTx(ctx, tx, t, threadID)
	if err != nil {
		return false, err
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

// lockThreadTx reads a thread and locks its row until tx ends (the lock
// replies queue on); a malformed or foreign id is ErrNotFound.
func (s *Store) lockThreadTx(ctx context.Context, tx *sqlx.Tx, t Tenant, threadID string) (ForumThread, error) {
	var th ForumThread
	if !IsUUID(threadID) {
		return th, ErrNotFound
	}
	err := tx.GetContext(ctx, &th, t.SQL(threadSelect+`WHERE th.id = $1 FOR UPDATE OF th`), threadID)
	if errors.Is(err, sql.ErrNoRows) {
		return th, ErrNotFound
	} else if err != nil {
		return th, fmt.Errorf("lock thread row %s: %w", threadID, err)
	}
	return th, nil
}

// SetThreadPinTx pins a thread (its lists show it first) or unpins it,
// with forum.thread.pinned|unpinned; a thread already so is left alone
// without a signal.
func (s *Store) SetThreadPinTx(ctx context.Context, tx *sqlx.Tx, t Tenant, dir Directive, threadID string, pin bool) (changed bool, err error) {
	th, err := s.lockThreadTx(ctx, tx, t, threadID)
	if err != nil {
		return false, err
	}
	if th.Pinned == pin {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_threads SET pinned = $2, updated_at = now() WHERE id = $1`), th.ID, pin); err != nil {
		return false, fmt.Errorf("pin thread %s: %w", th.ID, err)
	}
	signal := "forum.thread.pinned"
	if !pin {
		signal = "forum.thread.unpinned"
	}
	return true, s.emitForum(ctx, tx, t, forumFact{Name: signal, ActorUserID: dir.RequestedByUserID, DirectiveID: dir.ID,
		SubjectType: SubjectForumThread, SubjectID: th.ID,
		Payload: map[string]any{"thread_id": th.ID, "pinned": pin, "category_id": th.CategoryID, "category_slug": th.CategorySlug}})
}

// postTransitions lists, per moderation action, the statuses a post may
// leave and the one it takes. Hide is reversible (unhide); delete is
// final for unhide (SPEC §16): a deleted post comes back only through
// restore, which a moderator asks for explicitly.
var postTransitions = map[string]struct {
	from   []string
	to     string
	signal string
}{
	DirectivePostHide:    {[]string{PostPublished}, PostHidden, "forum.post.hidden"},
	DirectivePostUnhide:  {[]string{PostHidden}, PostPublished, "forum.post.unhidden"},
	DirectivePostDelete:  {[]string{PostPublished, PostHidden}, PostDeleted, "forum.post.deleted"},
	DirectivePostRestore: {[]string{PostDeleted}, PostPublished, "forum.post.restored"},
}

// errUnhideDeleted refuses to unhide a deleted post: unhide never undoes
// a delete.
const errUnhideDeleted = "This post was deleted: unhide does not bring it back. A moderator can restore it explicitly (Restore deleted post)."

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
	// Lock the thread before the post, in the same order as replies do, so
	// a reply and a moderation of the same thread cannot deadlock.
	p, th, err := s.lockPostTx(ctx, tx, t, postID)
	if err != nil {
		return false, err
	}
	if action == DirectivePostUnhide && p.Status == PostDeleted {
		return false, Invalid("", errUnhideDeleted)
	}
	if !slices.Contains(tr.from, p.Status) {
		return false, nil
	}
	if err := s.movePostTx(ctx, tx, t, p, tr.to, false); err != nil {
		return false, err
	}
	payload := postFactPayload(p, th)
	payload["status"] = tr.to
	return true, s.emitForum(ctx, tx, t, forumFact{Name: tr.signal, ActorUserID: dir.RequestedByUserID, DirectiveID: dir.ID,
		SubjectType: SubjectForumPost, SubjectID: p.ID, Payload: payload})
}

// movePostTx sets a locked post's status (flagHidden: three flags did
// it, not a moderator) and keeps its thread's counters true: post_count
// counts published posts, last_post_id names the latest of them.
func (s *Store) movePostTx(ctx context.Context, tx *sqlx.Tx, t Tenant, p ForumPost, to string, flagHidden bool) error {
	delta := 0
	if p.Status == PostPublished && to != PostPublished {
		delta = -1
	} else if p.Status != PostPublished && to == PostPublished {
		delta = 1
	}
	if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_posts SET status = $2, flag_hidden = $3, updated_at = now() WHERE id = $1`),
		p.ID, to, flagHidden); err != nil {
		return fmt.Errorf("set post %s %s: %w", p.ID, to, err)
	}
	if delta == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_threads th SET post_count = post_count + $2, updated_at = now(),
			last_post_id = (SELECT q.id FROM {tenant}.forum_posts q WHERE q.thread_id = th.id AND q.status = 'published'
				ORDER BY q.created_at DESC, q.id DESC LIMIT 1)
		WHERE th.id = $1`), p.ThreadID, delta); err != nil {
		return fmt.Errorf("recount thread %s: %w", p.ThreadID, err)
	}
	return nil
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
	if _, ok := postTransitions[kind]; !ok && !threadModerations[kind] {
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
