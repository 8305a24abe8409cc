package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// What the notifications subscriber reads to decide who hears of a
// signal: a post's author and thread, the people who took part in the
// thread, the members a post mentions, the organization's moderators, the
// person who asked for a directive. It reads through the delivery's
// transaction, after the signal committed.

// ParticipantsCap bounds the earlier participants a reply notifies: the
// ones who posted most recently. A thread of thousands of posters is an
// announcement, not a conversation, and a reply must stay one insert.
const ParticipantsCap = 200

// PostAudience is a post and who it concerns.
type PostAudience struct {
	PostID   string `db:"post_id"`
	ThreadID string `db:"thread_id"`
	// AuthorUserID is the person who wrote it, 0 for an agent or the
	// system.
	AuthorUserID int64  `db:"author_user_id"`
	AuthorType   string `db:"author_type"`
	// Published says members see it (not hidden, not deleted).
	Published bool   `db:"published"`
	Content   string `db:"content"`
	// First says it is the thread's opening post.
	First     bool  `db:"first"`
	StarterID int64 `db:"starter_id"` // who started the thread, 0 if nobody
	// Earlier are the people who wrote published posts in the thread
	// before this one, the most recent first, at most ParticipantsCap.
	Earlier pq.Int64Array `db:"earlier"`
}

// humanID is a post's author as a user id: author_id is text (agents
// author posts too), and the CASE makes the cast run on numeric ids only.
const humanID = `CASE WHEN %[1]s.author_type = 'human' AND %[1]s.author_id ~ '^[0-9]{1,18}$' THEN %[1]s.author_id::bigint END`

// PostAudienceTx reads the post postID of t and who it concerns; a
// malformed or missing id is ErrNotFound.
func (s *Store) PostAudienceTx(ctx context.Context, tx *sqlx.Tx, t Tenant, postID string) (PostAudience, error) {
	var a PostAudience
	if !IsUUID(postID) {
		return a, ErrNotFound
	}
	err := tx.GetContext(ctx, &a, t.SQL(`SELECT p.id AS post_id, p.thread_id, p.author_type,
			coalesce(`+fmt.Sprintf(humanID, "p")+`, 0) AS author_user_id,
			p.status = 'published' AS published, p.content,
			NOT EXISTS (SELECT 1 FROM {tenant}.forum_posts f
				WHERE f.thread_id = p.thread_id AND (f.created_at, f.id) < (p.created_at, p.id)) AS first,
			coalesce(th.created_by_user_id, 0) AS starter_id,
			coalesce((SELECT array_agg(e.uid ORDER BY e.last DESC) FROM (
				SELECT `+fmt.Sprintf(humanID, "q")+` AS uid, max(q.created_at) AS last FROM {tenant}.forum_posts q
				WHERE q.thread_id = p.thread_id AND q.status = 'published' AND q.author_type = 'human'
					AND (q.created_at, q.id) < (p.created_at, p.id)
				GROUP BY 1 ORDER BY 2 DESC LIMIT $2) e WHERE e.uid IS NOT NULL), '{}') AS earlier
		FROM {tenant}.forum_posts p JOIN {tenant}.forum_threads th ON th.id = p.thread_id
		WHERE p.id = $1`), postID, ParticipantsCap)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	} else if err != nil {
		return a, fmt.Errorf("audience of post %s: %w", postID, err)
	}
	return a, nil
}

// MembersByHandlesTx maps the handles (lowercase) of people who are
// active members of t's organization to their user ids; other handles
// (agents', strangers', disabled members') are left out.
func (s *Store) MembersByHandlesTx(ctx context.Context, tx *sqlx.Tx, t Tenant, handles []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(handles) == 0 {
		return out, nil
	}
	var rows []struct {
		Handle string `db:"handle"`
		ID     int64  `db:"id"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT u.handle, u.id FROM users u
		JOIN organization_memberships m ON m.user_id = u.id AND m.organization_id = $2 AND m.status = 'active'
		WHERE u.handle = ANY($1)`, pq.Array(handles), t.OrgID); err != nil {
		return nil, fmt.Errorf("members by handle: %w", err)
	}
	for _, r := range rows {
		out[r.Handle] = r.ID
	}
	return out, nil
}

// ModeratorsTx lists the active owners and admins of t's organization.
func (s *Store) ModeratorsTx(ctx context.Context, tx *sqlx.Tx, t Tenant) ([]int64, error) {
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, `SELECT user_id FROM organization_memberships
		WHERE organization_id = $1 AND status = 'active' AND role IN ('owner', 'admin') ORDER BY user_id`, t.OrgID); err != nil {
		return nil, fmt.Errorf("moderators: %w", err)
	}
	return ids, nil
}

// Requester is who asked for a directive, and for what.
type Requester struct {
	Kind        string `db:"name"`
	UserID      int64  `db:"user_id"` // 0 when no person asked (a workflow, the system)
	SubjectType string `db:"subject_type"`
}

// DirectiveRequesterTx reads who asked for the directive id; a malformed or
// missing id is ErrNotFound.
func (s *Store) DirectiveRequesterTx(ctx context.Context, tx *sqlx.Tx, t Tenant, id string) (Requester, error) {
	var r Requester
	if !IsUUID(id) {
		return r, ErrNotFound
	}
	err := tx.GetContext(ctx, &r, t.SQL(`SELECT name, coalesce(requested_by_user_id, 0) AS user_id, coalesce(subject_type, '') AS subject_type
		FROM {tenant}.directives WHERE id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	} else if err != nil {
		return r, fmt.Errorf("requester of directive %s: %w", id, err)
	}
	return r, nil
}

// PostAudiencesTx is PostAudienceTx for the posts of a delivery at once:
// two statements however many posts, where one per post read the whole
// thread each time. Malformed and missing ids are left out. Earlier is,
// for each post, the people of the thread's published posts before it:
// the thread's posters before the delivery's first post in it (read
// once per thread), then those of the posts from there to the post.
func (s *Store) PostAudiencesTx(ctx context.Context, tx *sqlx.Tx, t Tenant, postIDs []string) (map[string]PostAudience, error) {
	ids := uuids(postIDs)
	out := map[string]PostAudience{}
	if len(ids) == 0 {
		return out, nil
	}
	var posts []struct {
		PostAudience
		CreatedAt time.Time `db:"created_at"`
	}
	if err := tx.SelectContext(ctx, &posts, t.SQL(`SELECT p.id AS post_id, p.thread_id, p.author_type, p.created_at,
			coalesce(`+fmt.Sprintf(humanID, "p")+`, 0) AS author_user_id,
			p.status = 'published' AS published, p.content,
			NOT EXISTS (SELECT 1 FROM {tenant}.forum_posts f
				WHERE f.thread_id = p.thread_id AND (f.created_at, f.id) < (p.created_at, p.id)) AS first,
			coalesce(th.created_by_user_id, 0) AS starter_id, '{}'::bigint[] AS earlier
		FROM {tenant}.forum_posts p JOIN {tenant}.forum_threads th ON th.id = p.thread_id
		WHERE p.id = ANY($1::uuid[])`), pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("audience of posts: %w", err)
	}
	parts, err := s.threadPostersTx(ctx, tx, t, ids)
	if err != nil {
		return nil, err
	}
	for _, p := range posts {
		p.Earlier = parts[p.ThreadID].before(p.CreatedAt, p.PostID)
		out[p.PostID] = p.PostAudience
	}
	return out, nil
}

// threadPosters are who wrote a thread's published posts, around a
// delivery's posts: base, the people before the first of them, most
// recent first; window, the posts from it on, oldest first.
type threadPosters struct {
	base   []int64
	window []posterRow
}

type posterRow struct {
	Thread string        `db:"thread_id"`
	Base   bool          `db:"base"`
	UserID sql.NullInt64 `db:"uid"`
	At     time.Time     `db:"at"`
	PostID string        `db:"post_id"`
}

// before is Earlier for the post (at, id): the window's posters before
// it, the latest first, then base, each once, at most ParticipantsCap.
func (tp *threadPosters) before(at time.Time, id string) pq.Int64Array {
	out := pq.Int64Array{}
	if tp == nil {
		return out
	}
	seen := map[int64]bool{}
	for i := len(tp.window) - 1; i >= 0; i-- {
		w := tp.window[i]
		if !(w.At.Before(at) || w.At.Equal(at) && w.PostID < id) || !w.UserID.Valid || seen[w.UserID.Int64] {
			continue
		}
		seen[w.UserID.Int64] = true
		out = append(out, w.UserID.Int64)
	}
	for _, u := range tp.base {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	if len(out) > ParticipantsCap {
		out = out[:ParticipantsCap]
	}
	return out
}

// threadPostersTx reads the posters around the posts ids for each of
// their threads.
func (s *Store) threadPostersTx(ctx context.Context, tx *sqlx.Tx, t Tenant, ids []string) (map[string]*threadPosters, error) {
	var rows []posterRow
	if err := tx.SelectContext(ctx, &rows, t.SQL(`WITH b AS (
			SELECT DISTINCT ON (p.thread_id) p.thread_id, p.created_at, p.id FROM {tenant}.forum_posts p
			WHERE p.id = ANY($1::uuid[]) ORDER BY p.thread_id, p.created_at, p.id
		), e AS (
			SELECT p.thread_id, p.created_at, p.id FROM {tenant}.forum_posts p
			WHERE p.id = ANY($1::uuid[]) ORDER BY p.created_at DESC, p.id DESC
		), last AS (
			SELECT DISTINCT ON (e.thread_id) e.* FROM e ORDER BY e.thread_id, e.created_at DESC, e.id DESC
		)
		SELECT b.thread_id, true AS base, x.uid, x.at, '' AS post_id FROM b, LATERAL (
			SELECT `+fmt.Sprintf(humanID, "q")+` AS uid, max(q.created_at) AS at FROM {tenant}.forum_posts q
			WHERE q.thread_id = b.thread_id AND q.status = 'published' AND q.author_type = 'human'
				AND (q.created_at, q.id) < (b.created_at, b.id)
			GROUP BY q.author_type, q.author_id ORDER BY 2 DESC LIMIT $2) x
		UNION ALL
		SELECT b.thread_id, false, `+fmt.Sprintf(humanID, "q")+`, q.created_at, q.id::text
		FROM b JOIN last ON last.thread_id = b.thread_id JOIN {tenant}.forum_posts q ON q.thread_id = b.thread_id
			AND (q.created_at, q.id) >= (b.created_at, b.id) AND (q.created_at, q.id) <= (last.created_at, last.id)
			AND q.status = 'published' AND q.author_type = 'human'
		ORDER BY 2 DESC, 4 DESC, 5`), pq.Array(ids), ParticipantsCap); err != nil {
		return nil, fmt.Errorf("posters of threads: %w", err)
	}
	out := map[string]*threadPosters{}
	for _, r := range rows {
		tp := out[r.Thread]
		if tp == nil {
			tp = &threadPosters{}
			out[r.Thread] = tp
		}
		if r.Base {
			if r.UserID.Valid {
				tp.base = append(tp.base, r.UserID.Int64)
			}
		} else {
			tp.window = append(tp.window, r)
		}
	}
	for _, tp := range out {
		slices.Reverse(tp.window) // oldest first
	}
	return out, nil
}
