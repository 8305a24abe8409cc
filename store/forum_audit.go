package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// A thread's audit trail (SPEC §8, §16): the signals and directives about
// the thread and its posts, oldest first, collapsed per directive and
// paged. A directive is one row with its outcome (status, error, when it
// finished); the signals it caused — directive.requested, started,
// succeeded, and its effect such as forum.thread.locked — are folded into
// that row as its Facts, one click away, instead of four rows of their
// own. A page is the latest ThreadAuditPerPage rows before a cursor.

// ThreadAuditPerPage is how many rows one page of the trail shows.
const ThreadAuditPerPage = 20

// AuditEntry is one row of a thread's audit trail: a signal (a fact) or a
// directive (an intent, with its status, error and folded facts).
type AuditEntry struct {
	Kind        string // "signal" or "directive"
	Key         string // the signal's seq or the directive's id
	Name        string
	At          time.Time
	ActorType   sql.NullString
	ActorID     sql.NullString
	ActorName   string
	SubjectType sql.NullString
	SubjectID   sql.NullString
	Status      string        // directives only
	Error       string        // directives only
	Seq         sql.NullInt64 // signals only
	// DoneAt is when a directive finished (succeeded, failed, canceled).
	DoneAt sql.NullTime
	// Facts are the signals a directive caused, oldest first.
	Facts []AuditFact
}

// AuditFact is one signal folded into its directive's row.
type AuditFact struct {
	Seq  int64
	Name string
}

// ElementID is the audit row's stable HTML id: a live event for a row
// already on the page replaces it instead of adding it again.
func (e AuditEntry) ElementID() string { return "audit-" + e.Kind + "-" + e.Key }

// Actor is how the row names who acted.
func (e AuditEntry) Actor() string {
	switch {
	case e.ActorName != "":
		return e.ActorName
	case e.ActorType.String != "" && e.ActorID.String != "":
		return e.ActorType.String + " " + e.ActorID.String
	case e.ActorType.String != "":
		return e.ActorType.String
	}
	return "system"
}

// Subject is how the row names what it is about ("forum_post 1234abcd").
func (e AuditEntry) Subject() string {
	id := e.SubjectID.String
	if len(id) > 8 {
		id = id[:8]
	}
	return e.SubjectType.String + " " + id
}

// Cursor is the position of the row, for the "earlier" link of the page
// it starts: "<unix micros>_<seq>" for a signal, "<unix micros>_<uuid>"
// for a directive (PostgreSQL keeps microseconds, so it round-trips).
func (e AuditEntry) Cursor() string {
	return strconv.FormatInt(e.At.UnixMicro(), 10) + "_" + e.Key
}

// AuditCursor is a position in a thread's trail; the zero value is the
// end (the latest page).
type AuditCursor struct {
	At          time.Time
	Seq         int64  // the row is a signal
	DirectiveID string // the row is a directive
}

// ParseAuditCursor reads an AuditEntry.Cursor from field of a URL; "" is
// the end. A malformed cursor is a *ValidationError.
func ParseAuditCursor(field, s string) (AuditCursor, error) {
	if s == "" {
		return AuditCursor{}, nil
	}
	us, key, _ := strings.Cut(s, "_")
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil || n <= 0 {
		return AuditCursor{}, Invalid(field, "is not a position in the audit trail")
	}
	c := AuditCursor{At: time.UnixMicro(n)}
	if IsUUID(key) {
		c.DirectiveID = strings.ToLower(key)
	} else if c.Seq, err = strconv.ParseInt(key, 10, 64); err != nil || c.Seq <= 0 {
		return AuditCursor{}, Invalid(field, "is not a position in the audit trail")
	}
	return c, nil
}

// AuditPage is one page of a thread's trail, oldest first, and the cursor
// of the page before it ("" at the start of the trail).
type AuditPage struct {
	Entries []AuditEntry
	Earlier string
}

// ThreadAudit reads the page of the trail of thread before c. The trail
// is read newest first through two range scans (signals_thread,
// directives_thread), so a page costs the same on a thread of thousands
// of posts as on a new one. A fact caused by a directive is left out of
// the signal rows: its directive's row shows it.
func (s *Store) ThreadAudit(ctx context.Context, t Tenant, threadID string, c AuditCursor) (AuditPage, error) {
	if !IsUUID(threadID) {
		return AuditPage{}, ErrNotFound
	}
	at, rank, seq, dir := auditCursorArgs(c)
	rows, err := s.queryPrepared(ctx, t.SQL(threadAuditSQL), strings.ToLower(threadID), at, rank, seq, dir, ThreadAuditPerPage+1)
	if err != nil {
		return AuditPage{}, fmt.Errorf("audit trail of thread %s: %w", threadID, err)
	}
	es, err := scanAudit(rows)
	if err != nil {
		return AuditPage{}, fmt.Errorf("audit trail of thread %s: %w", threadID, err)
	}
	return auditPage(es), nil
}

// auditPage is the page of es, the trail's rows newest first, up to one
// more than a page holds (which says an earlier page exists).
func auditPage(es []AuditEntry) AuditPage {
	var p AuditPage
	if len(es) > ThreadAuditPerPage {
		es = es[:ThreadAuditPerPage]
		p.Earlier = es[len(es)-1].Cursor()
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i] // read newest first, shown oldest first
	}
	p.Entries = es
	return p
}

// trailCTEsSQL is the CTEs facts, dirs and trail of a thread's audit
// trail, newest first, for threadAuditSQL and threadPageSQL; trailCTEs
// names its parameters.
const trailCTEsSQL = `facts AS (
		SELECT sg.seq, sg.name, sg.occurred_at, sg.actor_type, sg.actor_id, sg.subject_type, sg.subject_id
		FROM {tenant}.signals sg
		WHERE (sg.payload->>'thread_id') = $thread AND sg.subject_type IN ('forum_thread', 'forum_post')
			AND sg.name NOT IN ('forum.post.reacted', 'forum.post.unreacted')
			AND sg.occurred_at <= $at AND (sg.occurred_at, 1, sg.seq) < ($at, $rank, $seq)
			AND (sg.correlation_id IS NULL OR NOT EXISTS (SELECT 1 FROM {tenant}.directives cd WHERE cd.id = sg.correlation_id))
		ORDER BY sg.occurred_at DESC, sg.seq DESC LIMIT $limit
	), dirs AS (
		SELECT d.id, d.name, d.created_at, d.requested_by_user_id, d.subject_type, d.subject_id, d.status,
			coalesce(d.last_error, '') AS error, d.completed_at
		FROM {tenant}.directives d
		WHERE (d.payload->>'thread_id') = $thread AND d.subject_type IN ('forum_thread', 'forum_post')
			AND d.created_at <= $at AND (d.created_at, 0, d.id) < ($at, $rank, $dir::uuid)
		ORDER BY d.created_at DESC, d.id DESC LIMIT $limit
	), trail AS MATERIALIZED (
		SELECT 'signal' AS kind, f.seq::text AS key, f.name, f.occurred_at AS at, 1 AS rank, f.seq, NULL::uuid AS did,
			f.actor_type, f.actor_id, f.subject_type, f.subject_id, '' AS status, '' AS error, NULL::timestamptz AS done_at
		FROM facts f
		UNION ALL
		SELECT 'directive', d.id::text, d.name, d.created_at, 0, NULL, d.id,
			CASE WHEN d.requested_by_user_id IS NULL THEN 'system' ELSE 'user' END, d.requested_by_user_id::text,
			d.subject_type, d.subject_id, d.status, d.error, d.completed_at
		FROM dirs d
		ORDER BY 4 DESC, 5 DESC, 6 DESC NULLS LAST, 7 DESC NULLS LAST LIMIT $limit
`

// trailCTEs is trailCTEsSQL with its parameters: the thread id
// (lower-case text, as payloads hold it), the cursor (time, rank, seq,
// directive id) and the limit.
func trailCTEs(thread, at, rank, seq, dir, limit string) string {
	return strings.NewReplacer("$thread", thread, "$at", at, "$rank", rank, "$seq", seq, "$dir", dir, "$limit", limit).Replace(trailCTEsSQL)
}

// threadAuditSQL: $1 thread id (lower-case text, as payloads hold it),
// $2 $3 $4 $5 the cursor (time, rank: 0 directive, 1 signal, 2 none; seq;
// directive id), $6 the limit. Rows sort by (time, rank, seq or id):
// a directive before the signals of the same instant. Each actor's name
// is looked up once (actors), not once per row: a page is mostly one
// person's replies.
var threadAuditSQL = `
	WITH ` + trailCTEs("$1", "$2", "$3", "$4", "$5", "$6") + `
	), actors AS MATERIALIZED (
		SELECT a.actor_id, u.name
		FROM (SELECT DISTINCT actor_id FROM trail WHERE actor_type = 'user' AND actor_id ~ '^[0-9]{1,18}$') a
		JOIN public.users u ON u.id = a.actor_id::bigint
	)
	SELECT tr.kind, tr.key, tr.name, tr.at, tr.actor_type, tr.actor_id, tr.subject_type, tr.subject_id,
		tr.status, tr.error, tr.seq, tr.done_at, coalesce(u.name, ''), fx.names, fx.seqs
	FROM trail tr
	LEFT JOIN actors u ON tr.actor_type = 'user' AND u.actor_id = tr.actor_id
	LEFT JOIN LATERAL (SELECT array_agg(cs.name ORDER BY cs.seq) AS names, array_agg(cs.seq ORDER BY cs.seq) AS seqs
		FROM {tenant}.signals cs WHERE tr.did IS NOT NULL AND cs.correlation_id = tr.did) fx ON true
	ORDER BY tr.at DESC, tr.rank DESC, tr.seq DESC NULLS LAST, tr.did DESC NULLS LAST`

// scanAudit reads ThreadAudit's rows by hand: the trail is read on every
// uncached thread view, and sqlx's StructScan resolves every column
// through reflection per row.
func scanAudit(rows *sql.Rows) ([]AuditEntry, error) {
	defer rows.Close()
	es := make([]AuditEntry, 0, ThreadAuditPerPage+1)
	for rows.Next() {
		var e AuditEntry
		var names pq.StringArray
		var seqs pq.Int64Array
		if err := rows.Scan(&e.Kind, &e.Key, &e.Name, &e.At, &e.ActorType, &e.ActorID, &e.SubjectType, &e.SubjectID,
			&e.Status, &e.Error, &e.Seq, &e.DoneAt, &e.ActorName, &names, &seqs); err != nil {
			return nil, err
		}
		e.Facts = factsOf(names, seqs)
		es = append(es, e)
	}
	return es, rows.Err()
}

func factsOf(names []string, seqs []int64) []AuditFact {
	if len(names) == 0 || len(names) != len(seqs) {
		return nil
	}
	fs := make([]AuditFact, len(names))
	for i := range names {
		fs[i] = AuditFact{Seq: seqs[i], Name: names[i]}
	}
	return fs
}

// SignalAuditEntry is the audit row of one signal, as ThreadAudit would
// list it: for the live layer, which pushes a row per new signal.
func (s *Store) SignalAuditEntry(ctx context.Context, sig Signal) (AuditEntry, error) {
	e := AuditEntry{Kind: "signal", Key: strconv.FormatInt(sig.Seq, 10), Name: sig.Name, At: sig.OccurredAt,
		ActorType: nullStr(sig.ActorType), ActorID: nullStr(sig.ActorID),
		SubjectType: nullStr(sig.SubjectType), SubjectID: nullStr(sig.SubjectID),
		Seq: sql.NullInt64{Int64: sig.Seq, Valid: true}}
	return e, s.auditActorName(ctx, &e)
}

// FoldedIntoDirective reports whether ThreadAudit shows sig inside a
// directive's row rather than as a row of its own: the directive.*
// signals, and facts whose correlation id is a directive's.
func (s *Store) FoldedIntoDirective(ctx context.Context, t Tenant, sig Signal) (bool, error) {
	if strings.HasPrefix(sig.Name, "directive.") {
		return true, nil
	}
	if sig.CorrelationID == "" {
		return false, nil
	}
	var n int
	if err := s.DB.GetContext(ctx, &n, t.SQL(`SELECT count(*) FROM {tenant}.directives WHERE id = $1`), sig.CorrelationID); err != nil {
		return false, fmt.Errorf("directive of signal %d: %w", sig.Seq, err)
	}
	return n > 0, nil
}

// DirectiveAuditEntry is the audit row of one directive in its current
// status, with the facts it caused so far (its element id stays the same
// as the status moves on).
func (s *Store) DirectiveAuditEntry(ctx context.Context, t Tenant, d Directive) (AuditEntry, error) {
	e := AuditEntry{Kind: "directive", Key: d.ID, Name: d.Name, At: d.CreatedAt, ActorType: nullStr("system"),
		SubjectType: nullStr(d.SubjectType), SubjectID: nullStr(d.SubjectID), Status: d.Status, Error: d.LastError,
		DoneAt: d.CompletedAt}
	if d.RequestedByUserID != 0 {
		e.ActorType, e.ActorID = nullStr("user"), nullStr(strconv.FormatInt(d.RequestedByUserID, 10))
	}
	var names pq.StringArray
	var seqs pq.Int64Array
	if err := s.DB.QueryRowContext(ctx, t.SQL(`SELECT array_agg(name ORDER BY seq), array_agg(seq ORDER BY seq)
		FROM {tenant}.signals WHERE correlation_id = $1`), d.ID).Scan(&names, &seqs); err != nil {
		return e, fmt.Errorf("facts of directive %s: %w", d.ID, err)
	}
	e.Facts = factsOf(names, seqs)
	return e, s.auditActorName(ctx, &e)
}

func (s *Store) auditActorName(ctx context.Context, e *AuditEntry) error {
	if e.ActorType.String != "user" || !numericID.MatchString(e.ActorID.String) {
		return nil
	}
	err := s.DB.GetContext(ctx, &e.ActorName, `SELECT name FROM public.users WHERE id = $1`, e.ActorID.String)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("audit actor %s: %w", e.ActorID.String, err)
	}
	return nil
}

var numericID = regexp.MustCompile(`^[0-9]{1,18}$`)

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
