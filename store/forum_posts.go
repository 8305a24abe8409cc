package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// postSelect reads posts with their author's name. The lateral lookup
// goes through the users primary key for human authors only (author_id is
// text because agents and the system author posts too); the CASE makes
// the cast run only on numeric ids, which a plain AND does not promise.
const postSelect = `SELECT ` + postColumns + ` FROM {tenant}.forum_posts p ` + postAuthor

// postColumns and postAuthor are postSelect over another row source named
// p (a CTE returning a new post).
const (
	postColumns = `p.id, p.thread_id, p.content, p.content_html, p.status, p.author_type, p.author_id, p.execution_id::text AS execution_id,
		p.revision, p.edited_at, p.edited_by_user_id, p.reactions, p.flag_hidden, p.created_at, p.updated_at,
		coalesce(u.name, ag.name, CASE p.author_type WHEN 'system' THEN 'FleetPrompt' WHEN 'agent' THEN 'Agent' ELSE '' END) AS author_name`
	postAuthor = `LEFT JOIN LATERAL (SELECT name FROM public.users
		WHERE id = CASE WHEN p.author_type = 'human' AND p.author_id ~ '^[0-9]{1,18}$' THEN p.author_id::bigint END) u ON true
		LEFT JOIN LATERAL (SELECT name FROM {tenant}.agents WHERE p.author_type = 'agent' AND id::text = p.author_id) ag ON true `
)

// insertPost writes one human post of actorUserID, with its Markdown
// rendered once, here, rather than on every view.
func insertPost(ctx context.Context, tx *sqlx.Tx, t Tenant, threadID string, actorUserID int64, body string) (ForumPost, error) {
	var p ForumPost
	if err := tx.GetContext(ctx, &p, t.SQL(`WITH p AS (
			INSERT INTO {tenant}.forum_posts (thread_id, content, content_html, author_type, author_id)
			VALUES ($1, $2, $3, 'human', $4) RETURNING *)
		SELECT `+postColumns+` FROM p `+postAuthor), threadID, body, string(RenderMarkdown(body)), strconv.FormatInt(actorUserID, 10)); err != nil {
		return p, fmt.Errorf("insert post: %w", err)
	}
	return p, nil
}

// emitPostCreated emits a new post's signal in tx. A reply's is emitted
// by its own statement (replyInsert), with the same payload.
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
// forum.post.created signal, in one statement run on its own (its own
// transaction), together with the other replies to the thread this
// process has waiting (forum_reply_batch.go): the UPDATE counting the
// replies takes the thread's row lock, so a lock directive and a reply
// are ordered (no reply lands after a lock committed: the UPDATE rechecks
// the status after waiting); the posts are inserted; their signals are
// emitted as EmitSignal does (emitCTEs). As one statement, the row lock
// and the tenant's emit lock are held for its execution and commit, with
// no round trip in between. The Markdown is rendered before.
func (s *Store) CreateForumReply(ctx context.Context, t Tenant, actorUserID int64, threadID, body string) (ForumThread, ForumPost, error) {
	r, err := s.CreateForumReplyOnce(ctx, t, actorUserID, threadID, body, "")
	return r.Thread, r.Post, err
}

// CreateForumReplyOnce is CreateForumReply for a form with an idempotency
// key: the same form sent again (a double click, or a resend after the
// server died before it answered) returns the post the first one made,
// with created false, instead of posting twice. An empty key posts every
// time. The key is unique per tenant, so the second statement fails on
// the index once the first has committed (it waits on the thread's row
// until then) and rolls back whole, count and signal included.
func (s *Store) CreateForumReplyOnce(ctx context.Context, t Tenant, actorUserID int64, threadID, body, key string) (Reply, error) {
	if !IsUUID(threadID) {
		return Reply{}, ErrNotFound
	}
	v := &ValidationError{}
	checkPostContent(v, "body", body)
	if len(key) > 200 {
		v.Add("idempotency_key", "must be at most 200 characters")
	}
	if v.OrNil() != nil {
		// A missing or closed thread says so before the form's errors.
		th, err := s.ForumThread(ctx, t, threadID)
		if err != nil {
			return Reply{}, err
		}
		if !th.Open() {
			return Reply{}, threadClosed(th)
		}
		return Reply{}, v
	}
	r := &replyRequest{actor: strconv.FormatInt(actorUserID, 10), body: body, html: string(RenderMarkdown(body)), key: key,
		done: make(chan replyResult, 1), lead: make(chan struct{}, 1)}
	res := s.submitReply(ctx, t, threadID, r)
	return res.Reply, res.err
}

// Reply is what CreateForumReplyOnce made: the thread as the reply left
// it, the post, and Seq, the last forum.post.created signal of the
// reply's batch (which commits as one: whatever reads at or past that seq
// shows every reply of it); or, for a resent form (Created false), the
// post the first send made, with Seq 0.
type Reply struct {
	Thread  ForumThread
	Post    ForumPost
	Created bool
	Seq     int64
}

// runReplies inserts a batch of replies to threadID in one statement
// (see forum_reply_batch.go) and answers each request. A batch of more
// than one that inserted nothing, or hit a resent form's key, is retried
// one reply at a time, so that each reply gets its own answer.
func (s *Store) runReplies(ctx context.Context, t Tenant, threadID string, batch []*replyRequest) {
	if len(batch) > 1 {
		rows, err := s.insertReplies(ctx, t, threadID, batch)
		_, dup := uniqueViolation(err)
		if err == nil && len(rows) == len(batch) {
			for i, r := range batch {
				res := rows[i].reply(len(rows) - 1 - i)
				res.Seq = rows[len(rows)-1].Seq // the batch commits as one
				r.done <- replyResult{Reply: res}
			}
			return
		} else if err != nil && !dup {
			for _, r := range batch {
				r.done <- replyResult{err: fmt.Errorf("insert replies: %w", err)}
			}
			return
		}
	}
	for _, r := range batch {
		res, err := s.replyAlone(ctx, t, threadID, r)
		r.done <- replyResult{res, err}
	}
}

// replyAlone inserts one reply, telling a resent form (its key's post) and
// a closed thread (the reason) from a reply made.
func (s *Store) replyAlone(ctx context.Context, t Tenant, threadID string, r *replyRequest) (Reply, error) {
	// Twice at most: a thread unlocked between the statement and the look
	// at why it inserted nothing is simply open again.
	for attempt := 0; ; attempt++ {
		rows, err := s.insertReplies(ctx, t, threadID, []*replyRequest{r})
		if err == nil && len(rows) == 1 {
			return rows[0].reply(0), nil
		} else if c, ok := uniqueViolation(err); ok && c == "forum_posts_idempotency_key" {
			th, post, err := s.replyByKey(ctx, t, r.actor, threadID, r.key)
			return Reply{Thread: th, Post: post}, err
		} else if err != nil {
			return Reply{}, fmt.Errorf("insert reply: %w", err)
		}
		th, err := s.ForumThread(ctx, t, threadID)
		if err != nil {
			return Reply{}, err
		}
		if !th.Open() || attempt > 0 {
			return Reply{}, threadClosed(th)
		}
	}
}

// replyRow is one row of replyInsert: a new post, its signal's seq, and
// the thread as the whole batch left it.
type replyRow struct {
	ForumPost
	Seq    int64       `db:"signal_seq"`
	Thread ForumThread `db:"th"`
}

// reply is the row's reply with the thread as this reply left it: the
// batch's later replies (there are later of them) not yet counted, this
// one its last post.
func (r replyRow) reply(later int) Reply {
	th := r.Thread
	th.PostCount -= later
	th.LastPostID = sql.NullString{String: r.ID, Valid: true}
	th.LastPostAt = r.CreatedAt
	return Reply{Thread: th, Post: r.ForumPost, Created: true, Seq: r.Seq}
}

func (s *Store) insertReplies(ctx context.Context, t Tenant, threadID string, batch []*replyRequest) ([]replyRow, error) {
	n := len(batch)
	bodies, htmls, authors, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range batch {
		bodies[i], htmls[i], authors[i], keys[i] = r.body, r.html, r.actor, r.key
	}
	var rows []replyRow
	err := s.selectPrepared(ctx, nil, &rows, replyInsert(t), threadID,
		pq.StringArray(bodies), pq.StringArray(htmls), pq.StringArray(authors), pq.StringArray(keys))
	return rows, err
}

// ReplyByKey is the reply the form with key made, when an earlier send of
// it did (ErrNotFound otherwise): a resent form refused for another reason
// (the posting limit) still answers with its post.
func (s *Store) ReplyByKey(ctx context.Context, t Tenant, actorUserID int64, threadID, key string) (ForumThread, ForumPost, error) {
	if key == "" || !IsUUID(threadID) {
		return ForumThread{}, ForumPost{}, ErrNotFound
	}
	th, p, err := s.replyByKey(ctx, t, strconv.FormatInt(actorUserID, 10), threadID, key)
	if errors.Is(err, sql.ErrNoRows) {
		return th, p, ErrNotFound
	}
	return th, p, err
}

// replyByKey is the reply an earlier send of the same form made. A key
// seen on another thread or from another author is not that form: a
// conflict, never someone else's post.
func (s *Store) replyByKey(ctx context.Context, t Tenant, actor, threadID, key string) (ForumThread, ForumPost, error) {
	var p ForumPost
	if err := s.DB.GetContext(ctx, &p, t.SQL(postSelect+`WHERE p.idempotency_key = $1`), key); err != nil {
		return ForumThread{}, p, fmt.Errorf("reply of idempotency key: %w", err)
	}
	if p.ThreadID != threadID || p.AuthorType != "human" || p.AuthorID.String != actor {
		return ForumThread{}, ForumPost{}, fmt.Errorf("idempotency key already used for another reply: %w", ErrConflict)
	}
	th, err := s.ForumThread(ctx, t, threadID)
	return th, p, err
}

// replyInsert is runReplies' statement: $1 the thread, then one array
// element per reply, in the batch's order: $2 bodies, $3 their HTML, $4
// authors (user ids), $5 the forms' idempotency keys (empty for none). It
// returns each post (postColumns), in the batch's order, with the thread
// as threadSelect reads it after the whole batch, columns prefixed "th.";
// no rows when the thread is missing or closed. Each signal's payload is
// the one emitPostCreated gives a thread's first post.
func replyInsert(t Tenant) string {
	// The posts' ids are drawn first (a CTE runs once), so the thread's
	// UPDATE, which must come first to take the row lock, can already
	// name the last of them as the thread's last post. A batch's posts are
	// a microsecond apart, in its order, so the thread page (by
	// created_at, id) and the signals (seq) show them as they came; one
	// reply alone is created at now(), as a post always was.
	return t.SQL(`WITH r AS (
		SELECT r.i, gen_random_uuid() AS id, r.body, r.html, r.author, nullif(r.key, '') AS key,
			now() + (r.i - 1) * interval '1 microsecond' AS created_at
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS r(body, html, author, key, i)
	), th AS (
		UPDATE {tenant}.forum_threads th SET post_count = th.post_count + (SELECT count(*) FROM r),
			last_post_at = (SELECT max(created_at) FROM r),
			last_post_id = (SELECT id FROM r ORDER BY i DESC LIMIT 1), updated_at = now()
		FROM {tenant}.forum_categories c
		WHERE th.id = $1 AND c.id = th.category_id AND th.status = 'open' AND c.status <> 'archived'
		RETURNING th.*, c.slug AS category_slug, c.name AS category_name, c.status AS category_status
	), p AS (
		INSERT INTO {tenant}.forum_posts (id, thread_id, content, content_html, author_type, author_id, idempotency_key, created_at, updated_at)
		SELECT r.id, th.id, r.body, r.html, 'human', r.author, r.key, r.created_at, r.created_at FROM th, r
		RETURNING *
	), fact AS (
		SELECT p.id AS post_id, th.id AS thread_id, th.category_id, th.category_slug, p.author_id, p.created_at FROM th, p
	)` + emitCTEs(t, "fact", signalExprs{
		Name: "'forum.post.created'", Source: "'" + forumSource + "'", OccurredAt: "fact.created_at", Metadata: "'{}'",
		Payload: `jsonb_build_object('post_id', fact.post_id, 'thread_id', fact.thread_id,
			'category_id', fact.category_id, 'category_slug', fact.category_slug)`,
		ActorType: "'user'", ActorID: "fact.author_id", SubjectType: "'" + SubjectForumPost + "'", SubjectID: "fact.post_id::text",
		Order: "fact.created_at",
	}) + `
	SELECT ` + postColumns + `, emitted.seq AS signal_seq,
		th.id AS "th.id", th.category_id AS "th.category_id", th.title AS "th.title", th.status AS "th.status",
		th.created_by_user_id AS "th.created_by_user_id", th.pinned AS "th.pinned", th.post_count AS "th.post_count",
		th.first_post_id::text AS "th.first_post_id", th.solution_post_id::text AS "th.solution_post_id",
		th.last_post_id::text AS "th.last_post_id",
		th.last_post_at AS "th.last_post_at", th.created_at AS "th.created_at", th.updated_at AS "th.updated_at",
		th.category_slug AS "th.category_slug", th.category_name AS "th.category_name",
		th.category_status AS "th.category_status", coalesce(tu.name, '') AS "th.author_name"
	FROM emitted JOIN p ON p.id::text = emitted.subject_id JOIN r ON r.id = p.id,
		th LEFT JOIN public.users tu ON tu.id = th.created_by_user_id ` + postAuthor + `
	ORDER BY r.i`)
}

// ForumPost finds a post of the tenant, whatever its status; a malformed
// or foreign id is ErrNotFound.
func (s *Store) ForumPost(ctx context.Context, t Tenant, id string) (ForumPost, error) {
	var p ForumPost
	if !IsUUID(id) {
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
// it (a new reply's redirect). It counts the posts after p, normally none
// or a few, and takes them from the thread's total (post_count, plus for
// moderators the unpublished posts): counting the posts before p walked
// the whole thread, on every reply.
func (s *Store) PostPage(ctx context.Context, t Tenant, p ForumPost, all bool) (int, error) {
	var before int
	if err := s.getPrepared(ctx, nil, &before, t.SQL(`SELECT th.post_count
			+ CASE WHEN $2 THEN (SELECT count(*) FROM {tenant}.forum_posts u WHERE u.thread_id = th.id AND u.status <> 'published') ELSE 0 END
			- (SELECT count(*) FROM {tenant}.forum_posts q
				WHERE q.thread_id = th.id AND ($2 OR q.status = 'published') AND (q.created_at, q.id) >= ($3, $4::uuid))
		FROM {tenant}.forum_threads th WHERE th.id = $1`),
		p.ThreadID, all, p.CreatedAt, p.ID); err != nil {
		return 0, fmt.Errorf("page of post %s: %w", p.ID, err)
	}
	return max(before, 0)/ForumPostsPerPage + 1, nil
}

// ForumPostsTx reads the posts ids of the tenant, whatever their status,
// by id, in one statement (a subscriber's batch of new posts); malformed
// and missing ids are left out.
func (s *Store) ForumPostsTx(ctx context.Context, q sqlx.QueryerContext, t Tenant, ids []string) (map[string]ForumPost, error) {
	valid := uuids(ids)
	out := map[string]ForumPost{}
	if len(valid) == 0 {
		return out, nil
	}
	var ps []ForumPost
	if err := sqlx.SelectContext(ctx, q, &ps, t.SQL(postSelect+`WHERE p.id = ANY($1::uuid[])`), pq.Array(valid)); err != nil {
		return nil, fmt.Errorf("posts by id: %w", err)
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}
