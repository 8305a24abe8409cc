package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Solved threads (SPEC §16): the thread's starter or a moderator marks
// one reply as the answer (forum.thread.solved, which workflows can
// trigger on); the thread page shows it at the top, and the lists mark
// the thread solved. Marking another reply moves the mark; unsolve takes
// it away.

// SolveResult is the thread after a solve or an unsolve. Changed is false
// when it was already so (a form sent twice).
type SolveResult struct {
	Thread  ForumThread
	Post    ForumPost // the reply marked (solve) or unmarked (unsolve)
	Changed bool
}

// SolveThread marks postID, a published reply of threadID, as its answer.
// Only the thread's starter and moderators may (ErrForbidden otherwise);
// an archived thread, the opening post, or a post of another thread is a
// *ValidationError.
func (s *Store) SolveThread(ctx context.Context, t Tenant, userID int64, moderator bool, threadID, postID string) (SolveResult, error) {
	var out SolveResult
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		th, err := s.lockSolvableTx(ctx, tx, t, userID, moderator, threadID)
		if err != nil {
			return err
		}
		p, err := s.threadPostTx(ctx, tx, t, th, postID)
		if err != nil {
			return err
		}
		switch {
		case !p.Visible():
			return Invalid("post_id", "This post is "+p.Status+": it can't be the solution.")
		case th.FirstPostID.String == p.ID:
			return Invalid("post_id", "The opening post asks the question: mark one of the replies as the solution.")
		}
		out = SolveResult{Thread: th, Post: p}
		if th.SolutionPostID.String == p.ID {
			return nil
		}
		if out.Thread, err = s.setSolutionTx(ctx, tx, t, th.ID, p.ID); err != nil {
			return err
		}
		out.Changed = true
		payload := postFactPayload(p, th)
		payload["previous_post_id"] = th.SolutionPostID.String
		if th.CreatedByUserID.Valid {
			payload["thread_author_user_id"] = th.CreatedByUserID.Int64
		}
		return s.emitForum(ctx, tx, t, forumFact{Name: "forum.thread.solved", ActorUserID: userID,
			SubjectType: SubjectForumThread, SubjectID: th.ID, Payload: payload})
	})
	return out, err
}

// UnsolveThread takes the mark away. postID, when given, is the reply the
// form showed as the solution: if another reply holds the mark by now,
// nothing changes (a late form does not undo a newer choice).
func (s *Store) UnsolveThread(ctx context.Context, t Tenant, userID int64, moderator bool, threadID, postID string) (SolveResult, error) {
	var out SolveResult
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		th, err := s.lockSolvableTx(ctx, tx, t, userID, moderator, threadID)
		if err != nil {
			return err
		}
		out.Thread = th
		if !th.Solved() || postID != "" && postID != th.SolutionPostID.String {
			return nil
		}
		if out.Post, err = s.threadPostTx(ctx, tx, t, th, th.SolutionPostID.String); err != nil {
			return err
		}
		if out.Thread, err = s.setSolutionTx(ctx, tx, t, th.ID, ""); err != nil {
			return err
		}
		out.Changed = true
		return s.emitForum(ctx, tx, t, forumFact{Name: "forum.thread.unsolved", ActorUserID: userID,
			SubjectType: SubjectForumThread, SubjectID: th.ID,
			Payload: map[string]any{"thread_id": th.ID, "post_id": out.Post.ID, "category_id": th.CategoryID, "category_slug": th.CategorySlug}})
	})
	return out, err
}

// lockSolvableTx locks a thread whose solution userID may set.
func (s *Store) lockSolvableTx(ctx context.Context, tx *sqlx.Tx, t Tenant, userID int64, moderator bool, threadID string) (ForumThread, error) {
	th, err := s.lockThreadTx(ctx, tx, t, threadID)
	if err != nil {
		return th, err
	}
	if !moderator && !th.StartedBy(userID) {
		return th, fmt.Errorf("only the thread's starter or a moderator marks its solution: %w", ErrForbidden)
	}
	if th.State() == ThreadArchived {
		return th, Invalid("", "This thread is archived: its solution can no longer change.")
	}
	return th, nil
}

// threadPostTx reads a post of th; another thread's (or none) is a
// validation error on post_id, since the form chose it.
func (s *Store) threadPostTx(ctx context.Context, tx *sqlx.Tx, t Tenant, th ForumThread, postID string) (ForumPost, error) {
	var p ForumPost
	if !IsUUID(postID) {
		return p, Invalid("post_id", "choose one of this thread's replies")
	}
	err := tx.GetContext(ctx, &p, t.SQL(postSelect+`WHERE p.id = $1 AND p.thread_id = $2`), postID, th.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return p, Invalid("post_id", "choose one of this thread's replies")
	} else if err != nil {
		return p, fmt.Errorf("post %s: %w", postID, err)
	}
	return p, nil
}

func (s *Store) setSolutionTx(ctx context.Context, tx *sqlx.Tx, t Tenant, threadID, postID string) (ForumThread, error) {
	var th ForumThread
	err := tx.GetContext(ctx, &th, t.SQL(`WITH u AS (UPDATE {tenant}.forum_threads SET solution_post_id = $2, updated_at = now()
		WHERE id = $1 RETURNING *) `+threadFromUpdated+`WHERE th.id = $1`), threadID, nullIfEmpty(postID))
	if err != nil {
		return th, fmt.Errorf("set solution of thread %s: %w", threadID, err)
	}
	return th, nil
}

// SolutionOf is a solved thread's answer as its page shows it at the
// top, with the page of the thread it is on; nil when the thread is not
// solved or the reader may not see the post (all: a moderator).
func (s *Store) SolutionOf(ctx context.Context, t Tenant, th ForumThread, all bool) (*SolvedPost, error) {
	if !th.Solved() {
		return nil, nil
	}
	p, err := s.ForumPost(ctx, t, th.SolutionPostID.String)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !p.Visible() {
		return nil, nil // a moderator sees the post's own placeholder
	}
	page, err := s.PostPage(ctx, t, p, all)
	if err != nil {
		return nil, err
	}
	return &SolvedPost{Post: p, Page: page}, nil
}

// SolvedPost is a thread's answer and the page it is on.
type SolvedPost struct {
	Post ForumPost
	Page int
}
