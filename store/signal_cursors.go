package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Signal cursors are where each subscriber stands in each tenant's signal
// log (migration public/0005). The subscriber engine (jobs/signal) holds a
// cursor row while it delivers the signals after it, and moves it in the
// transaction of the handler's effects.

// SignalCursor is one subscriber's place in one tenant's log.
type SignalCursor struct {
	Subscriber  string         `db:"subscriber"`
	Tenant      string         `db:"tenant_schema"`
	Seq         int64          `db:"seq"`
	Attempts    int            `db:"attempts"`
	LastError   sql.NullString `db:"last_error"`
	LastErrorAt sql.NullTime   `db:"last_error_at"`
	RetryAt     sql.NullTime   `db:"retry_at"`
	Delivered   int64          `db:"delivered"`
	UpdatedAt   time.Time      `db:"updated_at"`
}

const cursorColumns = `subscriber, tenant_schema, seq, attempts, last_error, last_error_at, retry_at, delivered, updated_at`

// Tenants lists every organization's tenant, oldest first.
func (s *Store) Tenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, slug FROM organizations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		var t Tenant
		if err := rows.Scan(&t.OrgID, &t.Slug); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// StartSignalCursor makes the subscriber's cursor in t unless it exists:
// at the tenant's latest signal when fromLatest (a subscriber that reacts
// only to what happens from now on), else at the beginning (one that
// wants the history, such as counts). A tenant created later gets its
// cursor at the beginning when first delivered to: all its signals are new.
func (s *Store) StartSignalCursor(ctx context.Context, subscriber string, t Tenant, fromLatest bool) error {
	q := `INSERT INTO public.signal_cursors (subscriber, tenant_schema, seq) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`
	if fromLatest {
		q = t.SQL(`INSERT INTO public.signal_cursors (subscriber, tenant_schema, seq)
			SELECT $1, $2, coalesce(max(seq), 0) FROM {tenant}.signals ON CONFLICT DO NOTHING`)
	}
	if _, err := s.DB.ExecContext(ctx, q, subscriber, t.Schema()); err != nil {
		return fmt.Errorf("start %s cursor in %s: %w", subscriber, t.Schema(), err)
	}
	return nil
}

// ClaimSignalCursorTx locks the subscriber's cursor in schema for tx,
// making it (at the beginning) when missing. ok is false when another
// worker holds it: that worker delivers meanwhile.
func (s *Store) ClaimSignalCursorTx(ctx context.Context, tx *sqlx.Tx, subscriber, schema string) (c SignalCursor, ok bool, err error) {
	err = tx.GetContext(ctx, &c, `SELECT `+cursorColumns+` FROM public.signal_cursors
		WHERE subscriber = $1 AND tenant_schema = $2 FOR UPDATE SKIP LOCKED`, subscriber, schema)
	if errors.Is(err, sql.ErrNoRows) {
		// Missing, or locked: an insert tells them apart (it waits for a
		// concurrent insert of the same key, then does nothing).
		err = tx.GetContext(ctx, &c, `INSERT INTO public.signal_cursors (subscriber, tenant_schema) VALUES ($1, $2)
			ON CONFLICT DO NOTHING RETURNING `+cursorColumns, subscriber, schema)
		if errors.Is(err, sql.ErrNoRows) {
			return c, false, nil
		}
	}
	if err != nil {
		return c, false, fmt.Errorf("claim %s cursor in %s: %w", subscriber, schema, err)
	}
	return c, true, nil
}

// SignalHead is the tenant's latest committed signal seq. Signals become
// visible in seq order (EmitSignal's lock), so every seq up to the head is
// visible once the head is: a reader may jump its cursor to it.
func (s *Store) SignalHead(ctx context.Context, q sqlx.QueryerContext, t Tenant) (int64, error) {
	var head int64
	if err := sqlx.GetContext(ctx, q, &head, t.SQL(`SELECT coalesce(max(seq), 0) FROM {tenant}.signals`)); err != nil {
		return 0, fmt.Errorf("read signal head: %w", err)
	}
	return head, nil
}

// SignalsMatching returns up to limit signals with after < seq <= upTo
// whose names match patterns, oldest first.
func (s *Store) SignalsMatching(ctx context.Context, q sqlx.QueryerContext, t Tenant, patterns []string, after, upTo int64, limit int) ([]Signal, error) {
	var out []Signal
	err := sqlx.SelectContext(ctx, q, &out, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals
		WHERE seq > $1 AND seq <= $2 AND name LIKE ANY($3) ORDER BY seq LIMIT $4`),
		after, upTo, pq.Array(signalLikes(patterns)), limit)
	if err != nil {
		return nil, fmt.Errorf("read signals after %d: %w", after, err)
	}
	return out, nil
}

// AdvanceSignalCursorTx moves the cursor to seq after delivering n
// signals, clearing any failure.
func (s *Store) AdvanceSignalCursorTx(ctx context.Context, tx *sqlx.Tx, subscriber, schema string, seq int64, n int) error {
	_, err := tx.ExecContext(ctx, `UPDATE public.signal_cursors SET seq = greatest(seq, $3), delivered = delivered + $4,
		attempts = 0, last_error = NULL, retry_at = NULL, updated_at = now()
		WHERE subscriber = $1 AND tenant_schema = $2`, subscriber, schema, seq, n)
	if err != nil {
		return fmt.Errorf("advance %s cursor in %s: %w", subscriber, schema, err)
	}
	return nil
}

// RecordSignalFailure counts a failed delivery on the cursor and sets when
// to try again.
func (s *Store) RecordSignalFailure(ctx context.Context, subscriber, schema, errText string, retryAt time.Time) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE public.signal_cursors SET attempts = attempts + 1, last_error = $3,
		last_error_at = now(), retry_at = $4, updated_at = now()
		WHERE subscriber = $1 AND tenant_schema = $2`, subscriber, schema, errText, retryAt)
	if err != nil {
		return fmt.Errorf("record %s failure in %s: %w", subscriber, schema, err)
	}
	return nil
}

// ParkSignalTx records that the subscriber gave up on signal seq and moves
// its cursor past it, so the tenant's later signals are not held up.
func (s *Store) ParkSignalTx(ctx context.Context, tx *sqlx.Tx, c SignalCursor, seq int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO public.signal_failures (subscriber, tenant_schema, seq, attempts, error)
		VALUES ($1, $2, $3, $4, coalesce($5, 'unknown error'))
		ON CONFLICT (subscriber, tenant_schema, seq) DO UPDATE SET attempts = EXCLUDED.attempts, error = EXCLUDED.error, failed_at = now()`,
		c.Subscriber, c.Tenant, seq, c.Attempts, c.LastError)
	if err != nil {
		return fmt.Errorf("park signal %d for %s: %w", seq, c.Subscriber, err)
	}
	return s.AdvanceSignalCursorTx(ctx, tx, c.Subscriber, c.Tenant, seq, 0)
}

// SignalFailure is a signal a subscriber gave up on.
type SignalFailure struct {
	Subscriber string    `db:"subscriber"`
	Tenant     string    `db:"tenant_schema"`
	Seq        int64     `db:"seq"`
	Attempts   int       `db:"attempts"`
	Error      string    `db:"error"`
	FailedAt   time.Time `db:"failed_at"`
}

// SignalFailures lists the signals subscribers gave up on in schema,
// oldest first.
func (s *Store) SignalFailures(ctx context.Context, schema string, limit int) ([]SignalFailure, error) {
	var out []SignalFailure
	err := s.DB.SelectContext(ctx, &out, `SELECT subscriber, tenant_schema, seq, attempts, error, failed_at
		FROM public.signal_failures WHERE tenant_schema = $1 ORDER BY seq LIMIT $2`, schema, clampLimit(limit, 5000))
	if err != nil {
		return nil, fmt.Errorf("list signal failures: %w", err)
	}
	return out, nil
}

// ForgetSignalFailureTx removes a parked failure once it was delivered.
func (s *Store) ForgetSignalFailureTx(ctx context.Context, tx *sqlx.Tx, subscriber, schema string, seq int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM public.signal_failures WHERE subscriber = $1 AND tenant_schema = $2 AND seq = $3`,
		subscriber, schema, seq)
	return err
}

// SignalCursors lists the subscribers' cursors in schema, for the admin.
func (s *Store) SignalCursors(ctx context.Context, schema string) ([]SignalCursor, error) {
	var out []SignalCursor
	err := s.DB.SelectContext(ctx, &out, `SELECT `+cursorColumns+` FROM public.signal_cursors WHERE tenant_schema = $1 ORDER BY subscriber`, schema)
	if err != nil {
		return nil, fmt.Errorf("list signal cursors: %w", err)
	}
	return out, nil
}

// SignalRange selects signals to replay, oldest first; empty fields do not
// filter.
type SignalRange struct {
	Name         string    // exact, or a prefix pattern ending in ".*"
	Since, Until time.Time // occurred_at in [Since, Until)
	FromSeq      int64     // seq >= FromSeq
	ToSeq        int64     // seq <= ToSeq (0: no bound)
	Seqs         []int64   // only these seqs (parked failures)
}

// SignalsInRange returns up to limit signals of r with seq > after,
// oldest first: one page of a replay.
func (s *Store) SignalsInRange(ctx context.Context, t Tenant, r SignalRange, after int64, limit int) ([]Signal, error) {
	c := signalConds(r.Name, r.Since, r.Until)
	if r.FromSeq > 0 {
		c.add("seq >= ?", r.FromSeq)
	}
	if r.ToSeq > 0 {
		c.add("seq <= ?", r.ToSeq)
	}
	if r.Seqs != nil {
		c.add("seq = ANY(?)", pq.Array(r.Seqs))
	}
	c.add("seq > ?", after)
	var out []Signal
	q := `SELECT ` + signalColumns + ` FROM {tenant}.signals` + c.sql() + ` ORDER BY seq` + c.limit(clampLimit(limit, 5000))
	if err := s.DB.SelectContext(ctx, &out, t.SQL(q), c.args...); err != nil {
		return nil, fmt.Errorf("read signals to replay: %w", err)
	}
	return out, nil
}

// LockSignalCursorTx locks the subscriber's cursor in schema for tx,
// waiting for a worker delivering meanwhile, and makes it when missing: a
// replay reads where the subscriber stands and keeps it there until done.
func (s *Store) LockSignalCursorTx(ctx context.Context, tx *sqlx.Tx, subscriber, schema string) (SignalCursor, error) {
	var c SignalCursor
	if _, err := tx.ExecContext(ctx, `INSERT INTO public.signal_cursors (subscriber, tenant_schema) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		subscriber, schema); err != nil {
		return c, fmt.Errorf("lock %s cursor in %s: %w", subscriber, schema, err)
	}
	err := tx.GetContext(ctx, &c, `SELECT `+cursorColumns+` FROM public.signal_cursors
		WHERE subscriber = $1 AND tenant_schema = $2 FOR UPDATE`, subscriber, schema)
	if err != nil {
		return c, fmt.Errorf("lock %s cursor in %s: %w", subscriber, schema, err)
	}
	return c, nil
}

// SignalBatch is a claimed cursor with what follows it: the tenant's head
// and the next signals the subscriber wants.
type SignalBatch struct {
	Cursor  SignalCursor
	Head    int64
	Signals []Signal
}

// ClaimSignalBatchTx is ClaimSignalCursorTx, SignalHead and
// SignalsMatching in one prepared statement, a delivery's first round
// trip instead of three: it locks the subscriber's cursor in t for tx and
// reads the head and up to limit signals after the cursor matching
// patterns (one while the cursor counts failures, so the failing one is
// known). ok is false when another worker holds the cursor.
func (s *Store) ClaimSignalBatchTx(ctx context.Context, tx *sqlx.Tx, subscriber string, t Tenant, patterns []string, limit int) (b SignalBatch, ok bool, err error) {
	var rows []struct {
		SignalCursor
		Head int64          `db:"head"`
		Seq  sql.NullInt64  `db:"s_seq"`
		Sig  nullableSignal `db:"s"`
	}
	err = s.selectPrepared(ctx, tx, &rows, t.SQL(`WITH c AS (
			SELECT `+cursorColumns+` FROM public.signal_cursors
			WHERE subscriber = $1 AND tenant_schema = $2 FOR UPDATE SKIP LOCKED
		), h AS (SELECT coalesce(max(seq), 0) AS head FROM {tenant}.signals)
		SELECT c.*, h.head, s.seq AS s_seq, s.id AS "s.id", s.name AS "s.name", s.dedupe_key AS "s.dedupe_key",
			s.payload AS "s.payload", s.metadata AS "s.metadata", s.occurred_at AS "s.occurred_at",
			s.actor_type AS "s.actor_type", s.actor_id AS "s.actor_id", s.subject_type AS "s.subject_type",
			s.subject_id AS "s.subject_id", s.source AS "s.source", s.correlation_id AS "s.correlation_id",
			s.causation_id AS "s.causation_id"
		FROM c CROSS JOIN h LEFT JOIN LATERAL (
			SELECT `+signalColumns+` FROM {tenant}.signals
			WHERE seq > c.seq AND seq <= h.head AND name LIKE ANY($3)
			ORDER BY seq LIMIT CASE WHEN c.attempts > 0 THEN 1 ELSE $4 END) s ON true
		ORDER BY s.seq`), subscriber, t.Schema(), pq.Array(signalLikes(patterns)), limit)
	if err != nil {
		return b, false, fmt.Errorf("claim %s batch in %s: %w", subscriber, t.Schema(), err)
	}
	if len(rows) == 0 {
		// Missing or locked: the claim tells them apart, and a new cursor
		// (at the beginning) has the batch read after it.
		c, ok, err := s.ClaimSignalCursorTx(ctx, tx, subscriber, t.Schema())
		if err != nil || !ok {
			return b, false, err
		}
		b.Cursor = c
		if b.Head, err = s.SignalHead(ctx, tx, t); err != nil {
			return b, false, err
		}
		n := limit
		if c.Attempts > 0 {
			n = 1
		}
		b.Signals, err = s.SignalsMatching(ctx, tx, t, patterns, c.Seq, b.Head, n)
		return b, err == nil, err
	}
	b.Cursor, b.Head = rows[0].SignalCursor, rows[0].Head
	for _, r := range rows {
		if r.Seq.Valid {
			b.Signals = append(b.Signals, r.Sig.signal(r.Seq.Int64))
		}
	}
	return b, true, nil
}

// nullableSignal is a Signal's columns from an outer join: NULL when no
// signal followed.
type nullableSignal struct {
	ID            sql.NullString `db:"id"`
	Name          sql.NullString `db:"name"`
	DedupeKey     sql.NullString `db:"dedupe_key"`
	Payload       []byte         `db:"payload"`
	Metadata      []byte         `db:"metadata"`
	OccurredAt    sql.NullTime   `db:"occurred_at"`
	ActorType     sql.NullString `db:"actor_type"`
	ActorID       sql.NullString `db:"actor_id"`
	SubjectType   sql.NullString `db:"subject_type"`
	SubjectID     sql.NullString `db:"subject_id"`
	Source        sql.NullString `db:"source"`
	CorrelationID sql.NullString `db:"correlation_id"`
	CausationID   sql.NullString `db:"causation_id"`
}

func (n nullableSignal) signal(seq int64) Signal {
	return Signal{Seq: seq, ID: n.ID.String, Name: n.Name.String, DedupeKey: n.DedupeKey.String,
		Payload: json.RawMessage(n.Payload), Metadata: json.RawMessage(n.Metadata), OccurredAt: n.OccurredAt.Time,
		ActorType: n.ActorType.String, ActorID: n.ActorID.String, SubjectType: n.SubjectType.String,
		SubjectID: n.SubjectID.String, Source: n.Source.String, CorrelationID: n.CorrelationID.String,
		CausationID: n.CausationID.String}
}
