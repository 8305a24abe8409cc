package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// AuditEntry is one row of a thread's audit trail: a signal (a fact) or a
// directive (an intent, with its status and error).
type AuditEntry struct {
	Kind        string         `db:"kind"` // "signal" or "directive"
	Key         string         `db:"key"`  // the signal's seq or the directive's id
	Name        string         `db:"name"`
	At          time.Time      `db:"at"`
	ActorType   sql.NullString `db:"actor_type"`
	ActorID     sql.NullString `db:"actor_id"`
	ActorName   string         `db:"actor_name"`
	SubjectType sql.NullString `db:"subject_type"`
	SubjectID   sql.NullString `db:"subject_id"`
	Status      string         `db:"status"` // directives only
	Error       string         `db:"error"`  // directives only
	Seq         sql.NullInt64  `db:"seq"`    // signals only
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

// ThreadAudit reads every signal and directive about a thread and its
// posts, oldest first. Each branch of the UNION is an index lookup
// (signals_subject, directives_subject; posts through forum_posts_thread),
// and nothing is cut to a recent window: the trail is the whole record.
func (s *Store) ThreadAudit(ctx context.Context, t Tenant, threadID string) ([]AuditEntry, error) {
	if !IsUUID(threadID) {
		return nil, ErrNotFound
	}
	var es []AuditEntry
	// Prepared: the thread page runs it on every view.
	if err := s.selectPrepared(ctx, nil, &es, t.SQL(threadAuditSQL), threadID); err != nil {
		return nil, fmt.Errorf("audit trail of thread %s: %w", threadID, err)
	}
	return es, nil
}

const threadAuditSQL = `
		WITH subjects AS (
			SELECT 'forum_thread'::text AS type, $1::text AS id
			UNION ALL
			SELECT 'forum_post', p.id::text FROM {tenant}.forum_posts p WHERE p.thread_id = $1::uuid
		), trail AS (
			SELECT 'signal' AS kind, sg.seq::text AS key, sg.name, sg.occurred_at AS at,
				sg.actor_type, sg.actor_id, sg.subject_type, sg.subject_id, '' AS status, '' AS error, sg.seq
			FROM subjects sj JOIN {tenant}.signals sg ON sg.subject_type = sj.type AND sg.subject_id = sj.id
			UNION ALL
			SELECT 'directive', d.id::text, d.name, d.created_at,
				CASE WHEN d.requested_by_user_id IS NULL THEN 'system' ELSE 'user' END, d.requested_by_user_id::text,
				d.subject_type, d.subject_id, d.status, coalesce(d.last_error, ''), NULL
			FROM subjects sj JOIN {tenant}.directives d ON d.subject_type = sj.type AND d.subject_id = sj.id
		)
		SELECT tr.kind, tr.key, tr.name, tr.at, tr.actor_type, tr.actor_id, tr.subject_type, tr.subject_id,
			tr.status, tr.error, tr.seq, coalesce(u.name, '') AS actor_name
		FROM trail tr
		LEFT JOIN LATERAL (SELECT name FROM public.users
			WHERE id = CASE WHEN tr.actor_type = 'user' AND tr.actor_id ~ '^[0-9]{1,18}$' THEN tr.actor_id::bigint END) u ON true
		ORDER BY tr.at, tr.seq NULLS LAST, tr.key`

// SignalAuditEntry is the audit row of one signal, as ThreadAudit would
// list it: for the live layer, which pushes a row per new signal.
func (s *Store) SignalAuditEntry(ctx context.Context, sig Signal) (AuditEntry, error) {
	e := AuditEntry{Kind: "signal", Key: fmt.Sprint(sig.Seq), Name: sig.Name, At: sig.OccurredAt,
		ActorType: nullStr(sig.ActorType), ActorID: nullStr(sig.ActorID),
		SubjectType: nullStr(sig.SubjectType), SubjectID: nullStr(sig.SubjectID),
		Seq: sql.NullInt64{Int64: sig.Seq, Valid: true}}
	return e, s.auditActorName(ctx, &e)
}

// DirectiveAuditEntry is the audit row of one directive in its current
// status (its element id stays the same as the status moves on).
func (s *Store) DirectiveAuditEntry(ctx context.Context, d Directive) (AuditEntry, error) {
	e := AuditEntry{Kind: "directive", Key: d.ID, Name: d.Name, At: d.CreatedAt, ActorType: nullStr("system"),
		SubjectType: nullStr(d.SubjectType), SubjectID: nullStr(d.SubjectID), Status: d.Status, Error: d.LastError}
	if d.RequestedByUserID != 0 {
		e.ActorType, e.ActorID = nullStr("user"), nullStr(fmt.Sprint(d.RequestedByUserID))
	}
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
