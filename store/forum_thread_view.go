package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/lib/pq"
)

// ThreadView is everything a thread page shows, read in one statement
// (threadPageSQL; its posts carry what the page shows: no Markdown source
// when they have its HTML, no updated_at): the page's seq, the thread and
// its post count together; one page of posts; one page of the audit
// trail. The count is the thread's post_count
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
// The thread page runs this on every uncached view, so it is one prepared
// statement (threadPageSQL: the thread, its page of posts and of the audit
// trail together) whose rows are scanned by hand (scanPage): sqlx's
// StructScan maps every column through reflection on every row.
func (s *Store) ForumThreadPage(ctx context.Context, t Tenant, id string, all bool, page int, audit AuditCursor) (ThreadView, error) {
	var out ThreadView
	if !IsUUID(id) {
		return out, ErrNotFound
	}
	page = min(normPage(page), math.MaxInt32)
	at, rank, seq, dir := auditCursorArgs(audit)
	rows, err := s.queryPrepared(ctx, t.SQL(threadPageSQL), id, all, ForumPostsPerPage, page,
		strings.ToLower(id), at, rank, seq, dir, ThreadAuditPerPage+1)
	var pr pageRows
	if err == nil {
		pr, err = scanPage(rows)
	}
	if err != nil {
		return out, fmt.Errorf("thread %s: %w", id, err)
	}
	if !pr.found {
		return out, ErrNotFound
	}
	out.Thread, out.Seq, out.Posts = pr.th, pr.seq, pr.posts
	pages := max((pr.total+ForumPostsPerPage-1)/ForumPostsPerPage, 1)
	page = min(page, pages) // past the end: the last page, as the statement read it
	out.Pager = Pager{Page: page, Pages: pages, HasPrev: page > 1, HasNext: page < pages}
	es := make([]AuditEntry, len(pr.audit))
	for i, r := range pr.audit {
		es[i] = r.e
	}
	out.Audit = auditPage(es)
	if out.Solution, err = s.SolutionOf(ctx, t, out.Thread, all); err != nil {
		return out, err
	}
	return out, nil
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
