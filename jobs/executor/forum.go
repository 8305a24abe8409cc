// Package executor holds the directive kinds of the forum and the
// marketplace: each kind's table entry and its RunFunc, a thin step from
// the directive's payload to the store's transaction-scoped mutator.
// app/platform.go lists them in the directive engine.
package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
)

// Forum returns the forum's kinds: moderation (lock, unlock, pin, unpin,
// hide, unhide, delete, restore) and writing (chat's confirmed threads,
// workflows' and the API's posts).
func Forum(st *store.Store) []directive.Kind {
	return []directive.Kind{
		{Name: store.DirectiveThreadLock, Title: "Lock a thread", Pending: "Lock requested", Role: directive.RoleAdmin, Run: threadLock(st, true)},
		{Name: store.DirectiveThreadUnlock, Title: "Unlock a thread", Pending: "Unlock requested", Role: directive.RoleAdmin, Run: threadLock(st, false)},
		{Name: store.DirectiveThreadPin, Title: "Pin a thread", Pending: "Pin requested", Role: directive.RoleAdmin, Run: threadPin(st, true)},
		{Name: store.DirectiveThreadUnpin, Title: "Unpin a thread", Pending: "Unpin requested", Role: directive.RoleAdmin, Run: threadPin(st, false)},
		{Name: store.DirectivePostHide, Title: "Hide a post", Pending: "Hide requested", Role: directive.RoleAdmin, Run: postStatus(st, store.DirectivePostHide)},
		{Name: store.DirectivePostUnhide, Title: "Unhide a post", Pending: "Unhide requested", Role: directive.RoleAdmin, Run: postStatus(st, store.DirectivePostUnhide)},
		{Name: store.DirectivePostDelete, Title: "Delete a post", Pending: "Delete requested", Role: directive.RoleAdmin, Run: postStatus(st, store.DirectivePostDelete)},
		{Name: store.DirectivePostRestore, Title: "Restore a deleted post", Pending: "Restore requested", Role: directive.RoleAdmin, Run: postStatus(st, store.DirectivePostRestore)},
		{Name: store.DirectiveThreadCreate, Title: "Start a thread", Pending: "Thread requested", Role: directive.RoleMember, Run: threadCreate(st)},
		{Name: store.DirectivePostCreate, Title: "Write a post", Pending: "Post requested", Role: directive.RoleMember, Run: postCreate(st)},
	}
}

// PostCreateArgs are forum.post.create's payload: a post in a thread, as
// the person who asked, or as an agent (its @handle).
type PostCreateArgs struct {
	ThreadID string `json:"thread_id"`
	Body     string `json:"body"`
	AsAgent  string `json:"as_agent,omitempty"`
	// ExecutionID is the agent's run that wrote the body (a workflow's
	// "{{.steps.draft.execution_id}}"): the post links to it, and replaces
	// the answer it streamed into the thread.
	ExecutionID string `json:"execution_id,omitempty"`
}

func postCreate(st *store.Store) directive.RunFunc {
	return func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
		var a PostCreateArgs
		if err := directive.Decode(d, &a); err != nil {
			return nil, err
		}
		author := store.HumanAuthor(d.RequestedByUserID)
		if a.AsAgent != "" {
			ag, err := st.AgentByHandle(ctx, tx, t, strings.TrimPrefix(a.AsAgent, "@"))
			if errors.Is(err, store.ErrNotFound) {
				return nil, store.Invalid("as_agent", fmt.Sprintf("there is no agent @%s", a.AsAgent))
			} else if err != nil {
				return nil, err
			}
			if !ag.Active() {
				return nil, ag.NotRunning()
			}
			author = store.Author{Type: "agent", ID: ag.ID}
		} else if d.RequestedByUserID == 0 {
			return nil, store.Invalid("as_agent", "a post needs an author: a person, or an agent (as_agent)")
		}
		if a.ExecutionID != "" {
			ex, err := st.Execution(ctx, t, a.ExecutionID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (author.Type != "agent" || ex.AgentID != author.ID)) {
				return nil, store.Invalid("execution_id", "the execution must be a run of the agent the post is written as (as_agent)")
			} else if err != nil {
				return nil, err
			}
		}
		p, err := st.CreatePostTx(ctx, tx, t, store.NewPost{ThreadID: a.ThreadID, Body: a.Body, Author: author, DirectiveID: d.ID,
			ExecutionID: a.ExecutionID})
		if err != nil {
			return nil, forumGone(err)
		}
		return map[string]string{"post_id": p.ID, "thread_id": p.ThreadID}, nil
	}
}

func threadLock(st *store.Store, lock bool) directive.RunFunc {
	return threadModeration(func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive, id string) (bool, error) {
		return st.SetThreadLockTx(ctx, tx, t, d, id, lock)
	})
}

func threadPin(st *store.Store, pin bool) directive.RunFunc {
	return threadModeration(func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive, id string) (bool, error) {
		return st.SetThreadPinTx(ctx, tx, t, d, id, pin)
	})
}

// threadModeration runs set on the thread a moderation's payload names.
func threadModeration(set func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive, threadID string) (bool, error)) directive.RunFunc {
	return func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
		var m store.ForumModeration
		if err := directive.Decode(d, &m); err != nil {
			return nil, err
		}
		changed, err := set(ctx, tx, t, d, m.ThreadID)
		return store.ForumModerationResult{ThreadID: m.ThreadID, Changed: changed}, forumGone(err)
	}
}

func postStatus(st *store.Store, action string) directive.RunFunc {
	return func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
		var m store.ForumModeration
		if err := directive.Decode(d, &m); err != nil {
			return nil, err
		}
		changed, err := st.SetPostStatusTx(ctx, tx, t, d, m.PostID, action)
		return store.ForumModerationResult{ThreadID: m.ThreadID, PostID: m.PostID, Changed: changed}, forumGone(err)
	}
}

// forumGone: a thread or post that does not exist will not appear on
// retry, so the directive fails at once with the reason kept.
func forumGone(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Permanent(fmt.Errorf("the thread or post no longer exists: %w", err))
	}
	return err
}

func threadCreate(st *store.Store) directive.RunFunc {
	return func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
		var p store.ActionPayload
		if err := directive.Decode(d, &p); err != nil {
			return nil, err
		}
		n := store.NewForumThread{CategoryID: p.CategoryID, Title: strings.TrimSpace(p.Title), Body: p.Body}
		if err := n.Validate(); err != nil {
			return nil, err // a refusal: fails at once with its words
		}
		th, post, err := st.CreateForumThreadTx(ctx, tx, t, d.RequestedByUserID, n)
		if err != nil {
			return nil, err
		}
		return store.ThreadCreateResult{ThreadID: th.ID, PostID: post.ID}, nil
	}
}
