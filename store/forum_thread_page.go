package store

import (
	"cmp"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// The thread page in one statement (threadPageSQL): the thread with the
// page's seq and the reader's count, one page of its posts and one page
// of its audit trail, as rows of one shape told apart by their first
// column. It was three statements, each a round trip (a write and a
// wakeup on both sides) and each looking up the names of its own rows,
// once per row; the people the page names (starter, authors, actors) are
// now read once each (pgbench, 16 clients, a page of 50 posts and 21 audit
// rows: 290 -> 183 µs of PostgreSQL CPU). The page is clamped to the last in the statement, from the
// count it read: the reader's count decides the offset, as before.
//
// Columns, by kind (0 the thread, 1 a post, 2 an audit row; 3 a user and
// 4 an agent the page names, by id, and 5 the facts a directive row folds:
// they are joined to rows here, so the statement keeps each part's order
// and no row is joined for them):
//
//	    0                 1             2
//	id  thread id         post id       key (seq or directive id)
//	s1  category id       status        kind
//	s2  title             author type   name
//	s3  status            author id     actor type
//	s4  first post id     execution id  actor id
//	s5  solution post id  -             subject type
//	s6  last post id      -             subject id
//	s7  category slug     -             status
//	s8  category name     -             error
//	s9  category status   -             -
//	nm  -                 -             -             (3, 4: the name)
//	t1  last post at      created at    at
//	t2  created at        edited at     done at
//	t3  updated at        -             -
//	i1  starter id        revision      seq
//	i2  post count        -             rank (0 directive, 1 signal)
//	i3  the page's seq    -             -
//	i4  reader's count    -             -
//	b1  pinned            flag hidden   -
//	j   -                 reactions     -
//	an, as -              -             -             (5: a directive's folded facts'
//	                                                    names and seqs, id its id)
//
// $1 thread (uuid), $2 moderator, $3 posts per page, $4 the page asked
// for, $5 the thread id as payloads hold it (lower-case text), $6..$9 the
// audit cursor (time, rank, seq, directive id: ThreadAudit), $10 the
// audit limit.
var threadPageSQL = `
	WITH h AS MATERIALIZED (
		SELECT th.id, th.category_id, th.title, th.status, th.created_by_user_id, th.pinned,
			th.first_post_id, th.solution_post_id, th.last_post_id, th.post_count, th.last_post_at, th.created_at, th.updated_at,
			c.slug, c.name AS category_name, c.status AS category_status,
			(SELECT coalesce(max(seq), 0) FROM {tenant}.signals) AS seq,
			th.post_count + CASE WHEN $2 THEN (SELECT count(*) FROM {tenant}.forum_posts p
				WHERE p.thread_id = th.id AND p.status <> 'published') ELSE 0 END AS total
		FROM {tenant}.forum_threads th
		JOIN {tenant}.forum_categories c ON c.id = th.category_id
		WHERE th.id = $1
	), p AS MATERIALIZED (
		SELECT p.id, p.status, p.created_at, p.author_type, p.author_id, p.execution_id, p.revision, p.edited_at,
			p.reactions, p.flag_hidden
		FROM {tenant}.forum_posts p WHERE p.thread_id = $1 AND ($2 OR p.status = 'published')
		ORDER BY p.created_at, p.id LIMIT $3
		OFFSET (SELECT (least(greatest($4::int, 1), greatest((h.total + $3 - 1) / $3, 1)) - 1) * $3 FROM h)
	), ` + trailCTEs("$5", "$6", "$7", "$8", "$9", "$10") + `
	), who AS MATERIALIZED (
		-- Distinct ids first: the test and the cast run once per person, not
		-- once per row.
		SELECT u.id, u.name FROM (
			SELECT author_id AS id FROM p WHERE author_type = 'human'
			UNION SELECT actor_id FROM trail WHERE actor_type = 'user'
			UNION SELECT created_by_user_id::text FROM h) i
		JOIN public.users u ON u.id = CASE WHEN i.id ~ '^[0-9]{1,18}$' THEN i.id::bigint END
	), agent AS MATERIALIZED (
		SELECT ag.id::text AS id, ag.name FROM {tenant}.agents ag
		WHERE ag.id::text IN (SELECT author_id FROM p WHERE author_type = 'agent')
	)
	SELECT 0 AS k, h.id::text, h.category_id::text, h.title, h.status, h.first_post_id::text, h.solution_post_id::text,
		h.last_post_id::text, h.slug, h.category_name, h.category_status, NULL,
		h.last_post_at, h.created_at, h.updated_at, h.created_by_user_id, h.post_count::bigint, h.seq, h.total,
		h.pinned, NULL::jsonb, NULL::text[], NULL::bigint[]
	FROM h
	UNION ALL
	SELECT 1, p.id::text, p.status, p.author_type, p.author_id, p.execution_id::text, NULL, NULL, NULL, NULL, NULL, NULL,
		p.created_at, p.edited_at, NULL, p.revision, NULL, NULL, NULL, p.flag_hidden, p.reactions, NULL, NULL
	FROM p
	UNION ALL
	SELECT 2, tr.key, tr.kind, tr.name, tr.actor_type, tr.actor_id, tr.subject_type, tr.subject_id, tr.status, tr.error, NULL,
		NULL, tr.at, tr.done_at, NULL, tr.seq, tr.rank, NULL, NULL, NULL, NULL, NULL, NULL
	FROM trail tr
	UNION ALL
	SELECT 5, cs.correlation_id::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, array_agg(cs.name ORDER BY cs.seq), array_agg(cs.seq ORDER BY cs.seq)
	FROM {tenant}.signals cs WHERE cs.correlation_id IN (SELECT did FROM trail WHERE did IS NOT NULL)
	GROUP BY cs.correlation_id
	UNION ALL
	SELECT 3, w.id::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, w.name,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
	FROM who w
	UNION ALL
	SELECT 4, a.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, a.name,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
	FROM agent a`

// pageRow is one row of threadPageSQL, scanned without reflection into
// reused holders.
type pageRow struct {
	k                                          int
	id, s1, s2, s3, s4, s5, s6, s7, s8, s9, nm sql.NullString
	t1, t2, t3                                 sql.NullTime
	i1, i2, i3, i4                             sql.NullInt64
	b1                                         sql.NullBool
	j                                          sql.RawBytes
	an                                         pq.StringArray
	as                                         pq.Int64Array
}

func (r *pageRow) dests() []any {
	return []any{&r.k, &r.id, &r.s1, &r.s2, &r.s3, &r.s4, &r.s5, &r.s6, &r.s7, &r.s8, &r.s9, &r.nm,
		&r.t1, &r.t2, &r.t3, &r.i1, &r.i2, &r.i3, &r.i4, &r.b1, &r.j, &r.an, &r.as}
}

func (r *pageRow) thread() (th ForumThread, seq int64, total int) {
	th = ForumThread{ID: r.id.String, CategoryID: r.s1.String, Title: r.s2.String, Status: r.s3.String,
		CreatedByUserID: r.i1, Pinned: r.b1.Bool, FirstPostID: r.s4, SolutionPostID: r.s5, LastPostID: r.s6,
		PostCount: int(r.i2.Int64), LastPostAt: r.t1.Time, CreatedAt: r.t2.Time, UpdatedAt: r.t3.Time,
		CategorySlug: r.s7.String, CategoryName: r.s8.String, CategoryStatus: r.s9.String}
	return th, r.i3.Int64, int(r.i4.Int64)
}

func (r *pageRow) post(thread string) (ForumPost, error) {
	p := ForumPost{ID: r.id.String, ThreadID: thread, Status: r.s1.String, CreatedAt: r.t1.Time,
		AuthorType: r.s2.String, AuthorID: r.s3, ExecutionID: r.s4, Revision: int(r.i1.Int64), EditedAt: r.t2,
		FlagHidden: r.b1.Bool}
	// Most posts have no reactions: no JSON decoder for "{}".
	if string(r.j) == "{}" {
		p.Reactions = ReactionCounts{}
	} else if err := p.Reactions.Scan([]byte(r.j)); err != nil {
		return p, err
	}
	return p, nil
}

func (r *pageRow) audit() (e AuditEntry, rank int64) {
	e = AuditEntry{Kind: r.s1.String, Key: r.id.String, Name: r.s2.String, At: r.t1.Time,
		ActorType: r.s3, ActorID: r.s4, SubjectType: r.s5, SubjectID: r.s6,
		Status: r.s7.String, Error: r.s8.String, Seq: r.i1, DoneAt: r.t2}
	return e, r.i2.Int64
}

// pageRows is what scanPage read.
type pageRows struct {
	found bool
	th    ForumThread
	seq   int64
	total int
	posts []ForumPost
	audit []rankedEntry
}

type rankedEntry struct {
	e    AuditEntry
	rank int64
}

func scanPage(rows *sql.Rows) (pageRows, error) {
	defer rows.Close()
	out := pageRows{posts: make([]ForumPost, 0, ForumPostsPerPage), audit: make([]rankedEntry, 0, ThreadAuditPerPage+1)}
	users, agents := map[string]string{}, map[string]string{}
	var facts map[string][]AuditFact // by directive id
	var r pageRow
	dests := r.dests()
	for rows.Next() {
		r.an, r.as = nil, nil
		if err := rows.Scan(dests...); err != nil {
			return out, err
		}
		switch r.k {
		case 0:
			out.found = true
			out.th, out.seq, out.total = r.thread()
		case 1:
			p, err := r.post("")
			if err != nil {
				return out, err
			}
			out.posts = append(out.posts, p)
		case 2:
			e, rank := r.audit()
			out.audit = append(out.audit, rankedEntry{e, rank})
		case 3:
			users[r.id.String] = r.nm.String
		case 4:
			agents[r.id.String] = r.nm.String
		case 5:
			if facts == nil {
				facts = map[string][]AuditFact{}
			}
			facts[r.id.String] = factsOf(r.an, r.as)
		}
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	out.name(users, agents)
	for i := range out.audit {
		if e := &out.audit[i].e; e.Kind == "directive" {
			e.Facts = facts[e.Key]
		}
	}
	// The statement's parts come in their own order (no promise, so it
	// is checked): the page's.
	byTime := func(a, b ForumPost) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID)) }
	if !slices.IsSortedFunc(out.posts, byTime) {
		slices.SortStableFunc(out.posts, byTime)
	}
	newestFirst := func(a, b rankedEntry) int { return -compareTrail(a, b) }
	if !slices.IsSortedFunc(out.audit, newestFirst) {
		slices.SortStableFunc(out.audit, newestFirst)
	}
	return out, nil
}

// name fills in the names of the thread's starter, the posts' authors and
// the audit rows' actors, as threadSelect, postAuthor and ThreadAudit
// name them.
func (out *pageRows) name(users, agents map[string]string) {
	userName := func(id string) string {
		if len(id) == 0 || len(id) > 18 || strings.Trim(id, "0123456789") != "" {
			return "" // not a user id (numericID)
		}
		return users[id]
	}
	if out.th.CreatedByUserID.Valid {
		out.th.AuthorName = users[strconv.FormatInt(out.th.CreatedByUserID.Int64, 10)]
	}
	for i := range out.posts {
		p := &out.posts[i]
		p.ThreadID = out.th.ID
		switch p.AuthorType {
		case "human":
			p.AuthorName = userName(p.AuthorID.String)
		case "agent":
			p.AuthorName = cmp.Or(agents[p.AuthorID.String], "Agent")
		case "system":
			p.AuthorName = "FleetPrompt"
		}
	}
	for i := range out.audit {
		if e := &out.audit[i].e; e.ActorType.String == "user" {
			e.ActorName = userName(e.ActorID.String)
		}
	}
}

// compareTrail orders audit rows as ThreadAudit does: by time, then a
// directive before the signals of its instant, then seq or directive id.
func compareTrail(a, b rankedEntry) int {
	return cmp.Or(a.e.At.Compare(b.e.At), cmp.Compare(a.rank, b.rank),
		cmp.Compare(a.e.Seq.Int64, b.e.Seq.Int64), strings.Compare(directiveKey(a.e), directiveKey(b.e)))
}

func directiveKey(e AuditEntry) string {
	if e.Kind == "directive" {
		return e.Key
	}
	return ""
}

// auditCursorArgs are threadPageSQL's (and threadAuditSQL's) cursor
// parameters for c: time, rank, seq, directive id.
func auditCursorArgs(c AuditCursor) (at any, rank int, seq int64, dir string) {
	at, rank, seq, dir = any("infinity"), 2, c.Seq, "00000000-0000-0000-0000-000000000000"
	if !c.At.IsZero() {
		at, rank = c.At, 1
		if c.DirectiveID != "" {
			rank, dir = 0, c.DirectiveID
		}
	}
	return at, rank, seq, dir
}
