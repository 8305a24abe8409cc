package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"
)

// ThreadView is everything a thread page shows, read in three statements
// (its posts carry what the page shows: no Markdown source when they have
// its HTML, no updated_at):
// the page's seq, the thread and its post count together; one page of
// posts; one page of the audit trail. The count is the thread's post_count
// (published posts) plus, for moderators, the few others
// (forum_posts_unpublished): counting every post of a long thread on each
// view grew with the thread.
type ThreadView struct {
	// Seq is the tenant's latest signal seq, read in the same snapshot as
	// the thread and before the posts and the audit trail, so the page's
	// live stream resumes from it and misses nothing (see LatestSignalSeq).
	Seq    int64
	Thread ForumThread
	Posts  []ForumPost
	Pager  Pager
	Audit  AuditPage
	// Solution is the thread's answer, shown at the top (nil: unsolved,
	// or not visible to the reader).
	Solution *SolvedPost
}

// ForumThreadPage reads page (clamped to the last) of a thread with what
// goes around it, and the page of its audit trail before audit (the zero
// cursor: the latest). Moderators (all=true) get every post; members only
// published ones. A malformed or foreign id is ErrNotFound.
//
// The posts come without their bodies (Content and ContentHTML empty):
// the bodies are most of the bytes of a page, and a page whose posts are
// already rendered in memory needs none of them. ForumPostBodies reads
// those a page does need.
//
// The thread page runs these statements on every uncached view, so they
// are prepared and their rows scanned by hand (scanThread, scanPosts):
// sqlx's StructScan maps every column through reflection on every row.
func (s *Store) ForumThreadPage(ctx context.Context, t Tenant, id string, all bool, page int, audit AuditCursor) (ThreadView, error) {
	var out ThreadView
	if !IsUUID(id) {
		return out, ErrNotFound
	}
	var total int
	row, err := s.queryPrepared(ctx, t.SQL(threadHeadSQL), id, all)
	if err == nil {
		err = scanOne(row, func(r *sql.Rows) error { return scanThread(r, &out.Thread, &out.Seq, &total) })
	}
	if errors.Is(err, sql.ErrNoRows) {
		return out, ErrNotFound
	} else if err != nil {
		return out, fmt.Errorf("thread %s: %w", id, err)
	}
	pages := max((total+ForumPostsPerPage-1)/ForumPostsPerPage, 1)
	page = min(normPage(page), pages) // past the end: the last page
	out.Pager = Pager{Page: page, Pages: pages, HasPrev: page > 1, HasNext: page < pages}
	rows, err := s.queryPrepared(ctx, t.SQL(threadPostsSQL), out.Thread.ID, all, ForumPostsPerPage, (page-1)*ForumPostsPerPage)
	if err == nil {
		out.Posts, err = scanPosts(rows, out.Thread.ID, min(total, ForumPostsPerPage))
	}
	if err != nil {
		return out, fmt.Errorf("list posts: %w", err)
	}
	if out.Audit, err = s.ThreadAudit(ctx, t, out.Thread.ID, audit); err != nil {
		return out, err
	}
	if out.Solution, err = s.SolutionOf(ctx, t, out.Thread, all); err != nil {
		return out, err
	}
	return out, nil
}

// threadHeadSQL is threadSelect's columns, then the page's seq and the
// count of posts the reader sees. $1 thread, $2 moderator.
const threadHeadSQL = `SELECT th.id, th.category_id, th.title, th.status, th.created_by_user_id, th.pinned,
		th.first_post_id::text, th.solution_post_id::text, th.last_post_id::text, th.post_count, th.last_post_at, th.created_at, th.updated_at,
		c.slug, c.name, c.status, coalesce(u.name, ''),
		(SELECT coalesce(max(seq), 0) FROM {tenant}.signals),
		th.post_count + CASE WHEN $2 THEN (SELECT count(*) FROM {tenant}.forum_posts p
			WHERE p.thread_id = th.id AND p.status <> 'published') ELSE 0 END
	FROM {tenant}.forum_threads th
	JOIN {tenant}.forum_categories c ON c.id = th.category_id
	LEFT JOIN public.users u ON u.id = th.created_by_user_id
	WHERE th.id = $1`

// threadPostsSQL is one page of posts: $1 thread, $2 moderator, $3 limit,
// $4 offset. The page is cut before the authors are joined: joined first,
// the planner looked up the author of every post of a long thread and
// sorted them all (7 ms at 3,000 posts) instead of walking
// forum_posts_thread in order and stopping at the page's end. Each
// author's name is then looked up once (n), not once per post: a page is
// mostly a few people answering each other, and the per-row lookups were
// most of the statement's cost (pgbench, 50 posts by one author: 118 ->
// 93 µs of PostgreSQL CPU). Only what the page shows is read, and no
// body (ForumPostBodies): every value read is decoded on both sides,
// fifty times a page.
const threadPostsSQL = `WITH p AS MATERIALIZED (
		SELECT p.id, p.status, p.created_at, p.author_type, p.author_id, p.execution_id, p.revision, p.edited_at,
			p.reactions, p.flag_hidden
		FROM {tenant}.forum_posts p WHERE p.thread_id = $1 AND ($2 OR p.status = 'published')
		ORDER BY p.created_at, p.id LIMIT $3 OFFSET $4
	), n AS MATERIALIZED (
		SELECT a.author_type, a.author_id,
			coalesce(u.name, ag.name, CASE a.author_type WHEN 'system' THEN 'FleetPrompt' WHEN 'agent' THEN 'Agent' ELSE '' END) AS name
		FROM (SELECT DISTINCT author_type, author_id FROM p) a
		LEFT JOIN LATERAL (SELECT name FROM public.users
			WHERE id = CASE WHEN a.author_type = 'human' AND a.author_id ~ '^[0-9]{1,18}$' THEN a.author_id::bigint END) u ON true
		LEFT JOIN LATERAL (SELECT name FROM {tenant}.agents WHERE a.author_type = 'agent' AND id::text = a.author_id) ag ON true
	)
	SELECT p.id, p.status, p.created_at, p.author_type, p.author_id, p.execution_id::text, p.revision, p.edited_at,
		p.reactions, p.flag_hidden,
		coalesce(n.name, CASE p.author_type WHEN 'system' THEN 'FleetPrompt' WHEN 'agent' THEN 'Agent' ELSE '' END)
	FROM p LEFT JOIN n ON n.author_type = p.author_type AND n.author_id = p.author_id
	ORDER BY p.created_at, p.id`

func scanThread(r *sql.Rows, th *ForumThread, seq *int64, total *int) error {
	return r.Scan(&th.ID, &th.CategoryID, &th.Title, &th.Status, &th.CreatedByUserID, &th.Pinned,
		&th.FirstPostID, &th.SolutionPostID, &th.LastPostID, &th.PostCount, &th.LastPostAt, &th.CreatedAt, &th.UpdatedAt,
		&th.CategorySlug, &th.CategoryName, &th.CategoryStatus, &th.AuthorName, seq, total)
}

// scanPosts reads threadPostsSQL's rows, posts of thread.
func scanPosts(rows *sql.Rows, thread string, capacity int) ([]ForumPost, error) {
	defer rows.Close()
	ps := make([]ForumPost, 0, capacity)
	for rows.Next() {
		p := ForumPost{ThreadID: thread}
		var reactions sql.RawBytes
		if err := rows.Scan(&p.ID, &p.Status, &p.CreatedAt, &p.AuthorType, &p.AuthorID, &p.ExecutionID,
			&p.Revision, &p.EditedAt, &reactions, &p.FlagHidden, &p.AuthorName); err != nil {
			return nil, err
		}
		// Most posts have no reactions: no JSON decoder for "{}".
		if string(reactions) == "{}" {
			p.Reactions = ReactionCounts{}
		} else if err := p.Reactions.Scan(reactions); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// scanOne scans the single row of rows with scan; sql.ErrNoRows when
// there is none.
func scanOne(rows *sql.Rows, scan func(*sql.Rows) error) error {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := scan(rows); err != nil {
		return err
	}
	return rows.Close()
}

// queryPrepared is QueryContext through the statement cache (prepared.go),
// for rows scanned by hand.
func (s *Store) queryPrepared(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.DB.QueryContext(ctx, q, args...)
}

// ThreadsOfSignals names the threads whose pages the tenant's signals seqs
// may have changed, each with the latest of those seqs, for a cache of
// those pages: the thread of a forum fact or of a directive about a
// thread or post (from the payload's thread_id, the subject, or the
// post's row). wide is true when one of them changes every thread of a
// category (a category archived or restored).
func (s *Store) ThreadsOfSignals(ctx context.Context, t Tenant, seqs []int64) (threads map[string]int64, wide bool, err error) {
	threads = map[string]int64{}
	if len(seqs) == 0 {
		return threads, false, nil
	}
	rows, err := s.queryPrepared(ctx, t.SQL(threadsOfSignalsSQL), pq.Array(seqs))
	if err != nil {
		return nil, false, fmt.Errorf("threads of signals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var th sql.NullString
		var seq int64
		var w bool
		if err := rows.Scan(&th, &seq, &w); err != nil {
			return nil, false, fmt.Errorf("threads of signals: %w", err)
		}
		wide = wide || w
		if id := strings.ToLower(th.String); th.Valid && seq > threads[id] {
			threads[id] = seq
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("threads of signals: %w", err)
	}
	return threads, wide, nil
}

const threadsOfSignalsSQL = `SELECT
		coalesce(sg.payload->>'thread_id', CASE WHEN sg.subject_type = 'forum_thread' THEN sg.subject_id END, p.thread_id::text),
		sg.seq, sg.subject_type = 'forum_category'
	FROM {tenant}.signals sg
	LEFT JOIN {tenant}.forum_posts p ON sg.subject_type = 'forum_post'
		AND p.id = CASE WHEN sg.subject_id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN sg.subject_id::uuid END
	WHERE sg.seq = ANY($1) AND (sg.subject_type IN ('forum_thread', 'forum_post', 'forum_category') OR sg.payload ? 'thread_id')`

// ForumPostBodies fills in the bodies of posts (of thread, as
// ForumThreadPage read them): the HTML, or the Markdown source of a post
// stored without it. One statement for all of them.
func (s *Store) ForumPostBodies(ctx context.Context, t Tenant, thread string, posts []*ForumPost) error {
	if len(posts) == 0 {
		return nil
	}
	ids := make([]string, len(posts))
	byID := make(map[string]*ForumPost, len(posts))
	for i, p := range posts {
		ids[i], byID[p.ID] = p.ID, p
	}
	rows, err := s.queryPrepared(ctx, t.SQL(postBodiesSQL), thread, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("read post bodies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, content string
		var html sql.NullString
		if err := rows.Scan(&id, &content, &html); err != nil {
			return fmt.Errorf("read post bodies: %w", err)
		}
		if p := byID[id]; p != nil {
			p.Content, p.ContentHTML = content, html
		}
	}
	return rows.Err()
}

// postBodiesSQL: $1 thread, $2 post ids; the Markdown source only for rows
// without content_html.
const postBodiesSQL = `SELECT id, CASE WHEN content_html IS NULL THEN content ELSE '' END, content_html
	FROM {tenant}.forum_posts WHERE thread_id = $1 AND id = ANY($2::uuid[])`
