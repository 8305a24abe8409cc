package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Posts written through directives (SPEC §14): forum.post.create, used by
// workflows and the API, posts as a person or as an agent; an agent's
// answer to a mention posts as the agent with the execution that wrote
// it. The forum's rules hold: a locked or archived thread takes no post.

// DirectivePostCreate writes a post (SPEC §14): as a person or an agent.
const DirectivePostCreate = "forum.post.create"

// Author is who a post is by.
type Author struct {
	// Type is "human" (ID a user id) or "agent" (ID an agent id).
	Type, ID string
}

// HumanAuthor is a person.
func HumanAuthor(userID int64) Author {
	return Author{Type: "human", ID: strconv.FormatInt(userID, 10)}
}

// NewPost is a post to add to a thread.
type NewPost struct {
	ThreadID string
	Body     string
	Author   Author
	// ExecutionID is the agent execution that wrote it, if any.
	ExecutionID string
	// DirectiveID is the directive that made it (its signal's correlation).
	DirectiveID string
}

// CreatePostTx adds a post to an open thread in tx, counting it on the
// thread, with forum.post.created. The thread's row lock orders it
// against a lock directive, as a reply is.
func (s *Store) CreatePostTx(ctx context.Context, tx *sqlx.Tx, t Tenant, n NewPost) (ForumPost, error) {
	var p ForumPost
	n.Body = strings.TrimSpace(strings.ReplaceAll(n.Body, "\r\n", "\n"))
	// The thread first: another tenant's (or none) is not found, whatever
	// the body.
	if !IsUUID(n.ThreadID) {
		return p, ErrNotFound
	}
	var th ForumThread
	err := tx.GetContext(ctx, &th, t.SQL(threadSelect+`WHERE th.id = $1 FOR UPDATE OF th`), n.ThreadID)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	} else if err != nil {
		return p, fmt.Errorf("lock thread: %w", err)
	}
	if !th.Open() {
		return p, threadClosed(th)
	}
	v := &ValidationError{}
	checkPostContent(v, "body", n.Body)
	if err := v.OrNil(); err != nil {
		return p, err
	}
	if err := tx.GetContext(ctx, &p, t.SQL(`WITH p AS (
			INSERT INTO {tenant}.forum_posts (thread_id, content, content_html, author_type, author_id, execution_id)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)
		SELECT `+postColumns+` FROM p `+postAuthor), th.ID, n.Body, string(RenderMarkdown(n.Body)), n.Author.Type, n.Author.ID,
		nullIfEmpty(n.ExecutionID)); err != nil {
		return p, fmt.Errorf("insert post: %w", err)
	}
	if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_threads SET post_count = post_count + 1, last_post_at = now(),
		updated_at = now() WHERE id = $1`), th.ID); err != nil {
		return p, fmt.Errorf("count post: %w", err)
	}
	actor := Actor{Type: "agent", ID: n.Author.ID}
	if n.Author.Type == "human" {
		actor = Actor{Type: "user", ID: n.Author.ID}
	}
	payload := map[string]any{"post_id": p.ID, "thread_id": th.ID, "category_id": th.CategoryID, "category_slug": th.CategorySlug,
		"author_type": n.Author.Type}
	if n.ExecutionID != "" {
		payload["written_by_execution"] = n.ExecutionID
	}
	_, _, err = s.EmitSignal(ctx, tx, t, NewSignal{Name: "forum.post.created", Payload: payload, Actor: actor,
		Subject: Subject{Type: SubjectForumPost, ID: p.ID}, Source: forumSource, CorrelationID: n.DirectiveID, CausationID: n.DirectiveID})
	return p, err
}
