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

// Forum returns the forum's kinds: moderation (lock, unlock, hide,
// restore, delete) and starting a thread (chat's confirmed proposals).
func Forum(st *store.Store) []directive.Kind {
	return []directive.Kind{
		{Name: store.DirectiveThreadLock, Title: "Lock a thread", Pending: "Lock requested", Role: directive.RoleAdmin, Run: threadLock(st, true)},
		{Name: store.DirectiveThreadUnlock, Title: "Unlock a thread", Pending: "Unlock requested", Role: directive.RoleAdmin, Run: threadLock(st, false)},
		{Name: store.DirectivePostHide, Title: "Hide a post", Pending: "Hide requested", Role: directive.RoleAdmin, Run: postStatus(st, store.DirectivePostHide)},
		{Name: store.DirectivePostUnhide, Title: "Restore a post", Pending: "Restore requested", Role: directive.RoleAdmin, Run: postStatus(st, store.DirectivePostUnhide)},
		{Name: store.DirectivePostDelete, Title: "Delete a post", Pending: "Delete requested", Role: directive.RoleAdmin, Run: postStatus(st, store.DirectivePostDelete)},
		{Name: store.DirectiveThreadCreate, Title: "Start a thread", Pending: "Thread requested", Role: directive.RoleMember, Run: threadCreate(st)},
		{Name: DirectivePostCreate, Title: "Post a reply", Pending: "Reply requested", Role: directive.RoleMember, Run: postCreate(st)},
	}
}

// DirectivePostCreate writes a reply in a thread (SPEC §14), for
// workflows and the API, with the usual forum rules (a locked or archived
// thread refuses it).
const DirectivePostCreate = "forum.post.create"

// PostCreate is forum.post.create's payload. AsUser is the member the
// post is written as: the requester (the default), or anyone active when
// the platform itself asks (a workflow run); AsAgent (an agent's handle)
// is for the agent engine.
type PostCreate struct {
	ThreadID string `json:"thread_id"`
	Body     string `json:"body"`
	AsUser   int64  `json:"as_user,omitempty"`
	AsAgent  string `json:"as_agent,omitempty"`
}

func postCreate(st *store.Store) directive.RunFunc {
	return func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
		var p PostCreate
		if err := directive.Decode(d, &p); err != nil {
			return nil, err
		}
		if p.AsAgent != "" {
			return nil, store.Invalid("as_agent", "posting as an agent is not available yet")
		}
		user, err := postAuthor(ctx, st, t, d, p.AsUser)
		if err != nil {
			return nil, err
		}
		th, post, err := st.CreateForumPostTx(ctx, tx, t, store.NewForumPost{ThreadID: p.ThreadID, Body: p.Body, UserID: user})
		if err != nil {
			return nil, forumGone(err)
		}
		return store.ThreadCreateResult{ThreadID: th.ID, PostID: post.ID}, nil
	}
}

// postAuthor is who a forum.post.create writes as: a person may only post
// as themselves; the platform may post as any active member.
func postAuthor(ctx context.Context, st *store.Store, t store.Tenant, d store.Directive, asUser int64) (int64, error) {
	switch {
	case asUser == 0 && d.RequestedByUserID == 0:
		return 0, store.Invalid("as_user", "say which member the post is written as")
	case asUser == 0:
		return d.RequestedByUserID, nil
	case d.RequestedByUserID != 0 && asUser != d.RequestedByUserID:
		return 0, store.Invalid("as_user", "a member may only post as themselves")
	}
	m, err := st.MemberByUserID(ctx, t.OrgID, asUser)
	if errors.Is(err, store.ErrNotFound) || err == nil && !m.Active() {
		return 0, store.Invalid("as_user", "is not an active member of this organization")
	}
	return asUser, err
}

func threadLock(st *store.Store, lock bool) directive.RunFunc {
	return func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
		var m store.ForumModeration
		if err := directive.Decode(d, &m); err != nil {
			return nil, err
		}
		changed, err := st.SetThreadLockTx(ctx, tx, t, d, m.ThreadID, lock)
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
