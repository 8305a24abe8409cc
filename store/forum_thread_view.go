package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ThreadView is everything a thread page shows, read in three statements:
// the page's seq, the thread and its post count together; one page of
// posts; the audit trail. The count is the thread's post_count (published
// posts) plus, for moderators, the few others (forum_posts_unpublished):
// counting every post of a long thread on each view grew with the thread.
type ThreadView struct {
	// Seq is the tenant's latest signal seq, read in the same snapshot as
	// the thread and before the posts and the audit trail, so the page's
	// live stream resumes from it and misses nothing (see LatestSignalSeq).
	Seq    int64
	Thread ForumThread
	Posts  []ForumPost
	Pager  Pager
	Audit  []AuditEntry
}

// ForumThreadPage reads page (clamped to the last) of a thread with what
// goes around it. Moderators (all=true) get every post; members only
// published ones. A malformed or foreign id is ErrNotFound.
func (s *Store) ForumThreadPage(ctx context.Context, t Tenant, id string, all bool, page int) (ThreadView, error) {
	var out ThreadView
	if !IsUUID(id) {
		return out, ErrNotFound
	}
	var head struct {
		ForumThread
		Seq   int64 `db:"page_seq"`
		Total int   `db:"page_posts"`
	}
	err := s.getPrepared(ctx, nil, &head, t.SQL(`SELECT th.id, th.category_id, th.title, th.status, th.created_by_user_id, th.pinned,
			th.post_count, th.last_post_at, th.created_at, th.updated_at,
			c.slug AS category_slug, c.name AS category_name, c.status AS category_status,
			coalesce(u.name, '') AS author_name,
			(SELECT coalesce(max(seq), 0) FROM {tenant}.signals) AS page_seq,
			th.post_count + CASE WHEN $2 THEN (SELECT count(*) FROM {tenant}.forum_posts p
				WHERE p.thread_id = th.id AND p.status <> 'published') ELSE 0 END AS page_posts
		FROM {tenant}.forum_threads th
		JOIN {tenant}.forum_categories c ON c.id = th.category_id
		LEFT JOIN public.users u ON u.id = th.created_by_user_id
		WHERE th.id = $1`), id, all)
	if errors.Is(err, sql.ErrNoRows) {
		return out, ErrNotFound
	} else if err != nil {
		return out, fmt.Errorf("thread %s: %w", id, err)
	}
	out.Seq, out.Thread = head.Seq, head.ForumThread
	pages := max((head.Total+ForumPostsPerPage-1)/ForumPostsPerPage, 1)
	page = min(normPage(page), pages) // past the end: the last page
	out.Pager = Pager{Page: page, Pages: pages, HasPrev: page > 1, HasNext: page < pages}
	if err := s.selectPrepared(ctx, nil, &out.Posts, t.SQL(postSelect+`WHERE p.thread_id = $1 AND ($2 OR p.status = 'published')
		ORDER BY p.created_at, p.id LIMIT $3 OFFSET $4`), id, all, ForumPostsPerPage, (page-1)*ForumPostsPerPage); err != nil {
		return out, fmt.Errorf("list posts: %w", err)
	}
	if out.Audit, err = s.ThreadAudit(ctx, t, id); err != nil {
		return out, err
	}
	return out, nil
}
