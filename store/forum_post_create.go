package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/jmoiron/sqlx"
)

// NewForumPost is a reply written for someone else's transaction: the
// forum.post.create directive (workflows, SPEC §14) and the JSON API's
// idempotent replies, whose record must commit with the post.
type NewForumPost struct {
	ThreadID string
	Body     string
	// UserID is the member the post is written as.
	UserID int64
}

// CreateForumPostTx adds a reply to an open thread in tx, with the same
// statement, rules and forum.post.created signal as CreateForumReply: a
// missing or foreign thread is ErrNotFound, a locked or archived one a
// refusal, a bad body a *ValidationError on body.
func (s *Store) CreateForumPostTx(ctx context.Context, tx *sqlx.Tx, t Tenant, n NewForumPost) (ForumThread, ForumPost, error) {
	if !IsUUID(n.ThreadID) {
		return ForumThread{}, ForumPost{}, ErrNotFound
	}
	v := &ValidationError{}
	checkPostContent(v, "body", n.Body)
	var row struct {
		ForumPost
		Thread ForumThread `db:"th"`
	}
	if v.OrNil() == nil {
		err := tx.GetContext(ctx, &row, replyInsert(t), n.ThreadID, n.Body, string(RenderMarkdown(n.Body)), strconv.FormatInt(n.UserID, 10))
		if err == nil {
			return row.Thread, row.ForumPost, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return ForumThread{}, ForumPost{}, fmt.Errorf("insert reply: %w", err)
		}
	}
	// Nothing inserted, or nothing tried: a missing or closed thread says
	// so before the body's errors.
	var th ForumThread
	err := tx.GetContext(ctx, &th, t.SQL(threadSelect+`WHERE th.id = $1`), n.ThreadID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return th, ForumPost{}, ErrNotFound
	case err != nil:
		return th, ForumPost{}, fmt.Errorf("thread %s: %w", n.ThreadID, err)
	case !th.Open():
		return th, ForumPost{}, threadClosed(th)
	}
	if err := v.OrNil(); err != nil {
		return th, ForumPost{}, err
	}
	// Closed when the statement ran, open again now: let the caller retry.
	return th, ForumPost{}, fmt.Errorf("reply to thread %s: its status changed meanwhile: %w", n.ThreadID, ErrConflict)
}
