package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/jmoiron/sqlx"
)

// postSelect reads posts with their author's name. The lateral lookup
// goes through the users primary key for human authors only (author_id is
// text because agents and the system author posts too); the CASE makes
// the cast run only on numeric ids, which a plain AND does not promise.
const postSelect = `SELECT p.id, p.thread_id, p.content, p.status, p.author_type, p.author_id, p.created_at, p.updated_at,
		coalesce(u.name, CASE p.author_type WHEN 'system' THEN 'FleetPrompt' WHEN 'agent' THEN 'Agent' ELSE '' END) AS author_name
	FROM {tenant}.forum_posts p
	LEFT JOIN LATERAL (SELECT name FROM public.users
		WHERE id = CASE WHEN p.author_type = 'human' AND p.author_id ~ '^[0-9]{1,18}$' THEN p.author_id::bigint END) u ON true `

// insertPost writes one human post of actorUserID.
func insertPost(ctx context.Context, tx *sqlx.Tx, t Tenant, threadID string, actorUserID int64, body string) (ForumPost, error) {
	var p ForumPost
	var id string
	if err := tx.GetContext(ctx, &id, t.SQL(`INSERT INTO {tenant}.forum_posts (thread_id, content, author_type, author_id)
		VALUES ($1, $2, 'human', $3) RETURNING id`), threadID, body, strconv.FormatInt(actorUserID, 10)); err != nil {
		return p, fmt.Errorf("insert post: %w", err)
	}
	if err := tx.GetContext(ctx, &p, t.SQL(postSelect+`WHERE p.id = $1`), id); err != nil {
		return p, fmt.Errorf("read new post: %w", err)
	}
	return p, nil
}

func (s *Store) emitPostCreated(ctx context.Context, tx *sqlx.Tx, t Tenant, actorUserID int64, th ForumThread, p ForumPost) error {
	return s.emitForum(ctx, tx, t, forumFact{Name: "forum.post.created", ActorUserID: actorUserID,
		SubjectType: SubjectForumPost, SubjectID: p.ID,
		Payload: map[string]any{"post_id": p.ID, "thread_id": th.ID, "category_id": th.CategoryID, "category_slug": th.CategorySlug}})
}

// ErrThreadClosed is the message a reply to a locked or archived thread
// gets (a 422: the form was fine, the thread is not open).
func threadClosed(th ForumThread) error {
	if th.State() == ThreadArchived {
		return Invalid("", "This thread is archived: it takes no new replies.")
	}
	return Invalid("", "This thread is locked: it takes no new replies.")
}

// CreateForumReply adds a reply to an open thread with its
// forum.post.created signal. The thread row is locked for the insert, so
// a lock directive and a reply are ordered: no reply lands after a lock
// committed.
func (s *Store) CreateForumReply(ctx context.Context, t Tenant, actorUserID int64, threadID, body string) (ForumThread, ForumPost, error) {
	var (
		th   ForumThread
		post ForumPost
	)
	if !isUUID(threadID) {
		return th, post, ErrNotFound
	}
	v := &ValidationError{}
	checkPostContent(v, "body", body)
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &th, t.SQL(threadSelect+`WHERE th.id = $1 FOR UPDATE OF th`), threadID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("lock thread %s: %w", threadID, err)
		}
		if !th.Open() {
			return threadClosed(th)
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if post, err = insertPost(ctx, tx, t, th.ID, actorUserID, body); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_threads SET post_count = post_count + 1,
				last_post_at = $2, updated_at = now() WHERE id = $1`), th.ID, post.CreatedAt); err != nil {
			return fmt.Errorf("count reply: %w", err)
		}
		th.PostCount++
		th.LastPostAt = post.CreatedAt
		return s.emitPostCreated(ctx, tx, t, actorUserID, th, post)
	})
	return th, post, err
}

// ForumPost finds a post of the tenant, whatever its status; a malformed
// or foreign id is ErrNotFound.
func (s *Store) ForumPost(ctx context.Context, t Tenant, id string) (ForumPost, error) {
	var p ForumPost
	if !isUUID(id) {
		return p, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &p, t.SQL(postSelect+`WHERE p.id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	} else if err != nil {
		return p, fmt.Errorf("post %s: %w", id, err)
	}
	return p, nil
}

// ThreadPosts reads one page of a thread's posts, oldest first. Members
// (all=false) get published posts only, so hidden and deleted posts leave
// no trace for them; moderators (all=true) get every post.
func (s *Store) ThreadPosts(ctx context.Context, t Tenant, threadID string, all bool, page int) ([]ForumPost, Pager, error) {
	page = normPage(page)
	var total int
	if err := s.DB.GetContext(ctx, &total, t.SQL(`SELECT count(*) FROM {tenant}.forum_posts p
		WHERE p.thread_id = $1 AND ($2 OR p.status = 'published')`), threadID, all); err != nil {
		return nil, Pager{}, fmt.Errorf("count posts: %w", err)
	}
	pages := max((total+ForumPostsPerPage-1)/ForumPostsPerPage, 1)
	page = min(page, pages) // past the end: the last page
	var ps []ForumPost
	if err := s.DB.SelectContext(ctx, &ps, t.SQL(postSelect+`WHERE p.thread_id = $1 AND ($2 OR p.status = 'published')
		ORDER BY p.created_at, p.id LIMIT $3 OFFSET $4`), threadID, all, ForumPostsPerPage, (page-1)*ForumPostsPerPage); err != nil {
		return nil, Pager{}, fmt.Errorf("list posts: %w", err)
	}
	return ps, Pager{Page: page, Pages: pages, HasPrev: page > 1, HasNext: page < pages}, nil
}

// PostPage is the page of its thread a post is on, for links anchored at
// it (a new reply's redirect).
func (s *Store) PostPage(ctx context.Context, t Tenant, p ForumPost, all bool) (int, error) {
	var before int
	if err := s.DB.GetContext(ctx, &before, t.SQL(`SELECT count(*) FROM {tenant}.forum_posts q
		WHERE q.thread_id = $1 AND ($2 OR q.status = 'published') AND (q.created_at, q.id) < ($3, $4::uuid)`),
		p.ThreadID, all, p.CreatedAt, p.ID); err != nil {
		return 0, fmt.Errorf("page of post %s: %w", p.ID, err)
	}
	return before/ForumPostsPerPage + 1, nil
}
