package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
)

// Directives record intent (SPEC §7): who asked for which change, with what
// payload, and how it went. This file is their SQL: the request (the row,
// its job and directive.requested in one transaction) and each move of
// the status, every one with its signal. Which kinds exist and what they
// do is the directive engine's (jobs/directive); the store knows no kind.

// DirectiveJob is the job kind that executes one directive.
const DirectiveJob = "directive.execute"

// Directive statuses.
const (
	DirectiveRequested = "requested"
	DirectiveRunning   = "running"
	DirectiveSucceeded = "succeeded"
	DirectiveFailed    = "failed"
	DirectiveCanceled  = "canceled"
)

// DefaultDirectiveAttempts is a directive's max_attempts unless the
// request says otherwise.
const DefaultDirectiveAttempts = 5

var directiveKind = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)

// ValidDirectiveKind reports whether kind is shaped like a directive kind
// ("forum.thread.lock").
func ValidDirectiveKind(kind string) bool { return directiveKind.MatchString(kind) }

// Directive is one request for a change. Empty strings and zero values
// stand for NULL columns.
type Directive struct {
	ID                string          `db:"id"`
	Name              string          `db:"name"` // the kind, e.g. "forum.thread.lock"
	IdempotencyKey    string          `db:"idempotency_key"`
	Status            string          `db:"status"`
	Payload           json.RawMessage `db:"payload"`
	Result            json.RawMessage `db:"result"` // "null" until it succeeds
	Attempt           int             `db:"attempt"`
	MaxAttempts       int             `db:"max_attempts"`
	SubjectType       string          `db:"subject_type"`
	SubjectID         string          `db:"subject_id"`
	ScheduledAt       time.Time       `db:"scheduled_at"`
	StartedAt         sql.NullTime    `db:"started_at"`
	CompletedAt       sql.NullTime    `db:"completed_at"`
	LastError         string          `db:"last_error"`
	LastErrorAt       sql.NullTime    `db:"last_error_at"`
	RequestedByUserID int64           `db:"requested_by_user_id"` // 0 when not a person
	CausationID       string          `db:"causation_id"`         // the signal or run that asked, or ""
	CreatedAt         time.Time       `db:"created_at"`
	UpdatedAt         time.Time       `db:"updated_at"`
}

// Subject returns what the directive is about.
func (d Directive) Subject() Subject { return Subject{d.SubjectType, d.SubjectID} }

// Decode unmarshals the payload into v.
func (d Directive) Decode(v any) error {
	if err := json.Unmarshal(d.Payload, v); err != nil {
		return fmt.Errorf("decode %s directive payload: %w", d.Name, err)
	}
	return nil
}

// Finished reports whether the directive will not change any more on its own.
func (d Directive) Finished() bool {
	return d.Status == DirectiveSucceeded || d.Status == DirectiveFailed || d.Status == DirectiveCanceled
}

// Actor is who the directive acts for: the person who asked, or the
// platform.
func (d Directive) Actor() Actor { return actorFor(d.RequestedByUserID) }

const directiveColumns = `id::text AS id, name, coalesce(idempotency_key, '') AS idempotency_key, status, payload,
	coalesce(result, 'null'::jsonb) AS result, attempt, max_attempts,
	coalesce(subject_type, '') AS subject_type, coalesce(subject_id, '') AS subject_id, scheduled_at, started_at,
	completed_at, coalesce(last_error, '') AS last_error, last_error_at,
	coalesce(requested_by_user_id, 0) AS requested_by_user_id, coalesce(causation_id::text, '') AS causation_id,
	created_at, updated_at`

// DirectiveRequest asks for a change.
type DirectiveRequest struct {
	Kind    string
	Payload any // marshalled to JSON
	// IdempotencyKey is the form's hidden key: re-submitting it returns
	// the directive it made instead of a new one. Empty: always new.
	IdempotencyKey string
	UserID         int64 // who asks; 0 for the system
	Subject        Subject
	MaxAttempts    int // 0: DefaultDirectiveAttempts
	// CausationID is the uuid of the signal (or run) that asked for it,
	// carried by its signals so reactions can tell their own causes.
	CausationID string
}

func (req DirectiveRequest) validate() error {
	if !ValidDirectiveKind(req.Kind) {
		return Invalid("kind", fmt.Sprintf("%q is not a directive kind", req.Kind))
	}
	if len(req.IdempotencyKey) > 200 {
		return Invalid("idempotency_key", "must be at most 200 characters")
	}
	if (req.Subject.Type == "") != (req.Subject.ID == "") {
		return Invalid("subject", "needs both a type and an id, or neither")
	}
	if req.CausationID != "" && !IsUUID(req.CausationID) {
		return Invalid("causation_id", "must be a uuid")
	}
	return nil
}

// RequestDirective is RequestDirectiveTx in a transaction of its own.
func (s *Store) RequestDirective(ctx context.Context, t Tenant, req DirectiveRequest) (dir Directive, created bool, err error) {
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		dir, created, err = s.RequestDirectiveTx(ctx, tx, t, req)
		return err
	})
	return dir, created, err
}

// RequestDirectiveTx records a directive, its job and its
// directive.requested signal in tx, so they commit with whatever else the
// caller writes. created is false when the idempotency key was seen
// before: the existing directive is returned and nothing new is queued;
// the same key for another kind is ErrConflict. Which kinds exist is not
// checked here: ask through the directive engine (jobs/directive) for a
// kind that comes from outside the code.
func (s *Store) RequestDirectiveTx(ctx context.Context, tx *sqlx.Tx, t Tenant, req DirectiveRequest) (Directive, bool, error) {
	if err := req.validate(); err != nil {
		return Directive{}, false, err
	}
	payload, err := marshalJSON(req.Payload)
	if err != nil {
		return Directive{}, false, fmt.Errorf("request %s: payload: %w", req.Kind, err)
	}
	maxAttempts := req.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultDirectiveAttempts
	}
	var dir Directive
	err = tx.GetContext(ctx, &dir, t.SQL(`
		INSERT INTO {tenant}.directives (name, idempotency_key, payload, max_attempts, subject_type, subject_id,
		                                 requested_by_user_id, causation_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING `+directiveColumns),
		req.Kind, nullIfEmpty(req.IdempotencyKey), payload, maxAttempts, nullIfEmpty(req.Subject.Type), nullIfEmpty(req.Subject.ID),
		sql.NullInt64{Int64: req.UserID, Valid: req.UserID != 0}, nullIfEmpty(req.CausationID))
	if errors.Is(err, sql.ErrNoRows) {
		// Re-submitted: the first request (committed, or we would have
		// inserted after waiting on it) stands.
		err := tx.GetContext(ctx, &dir, t.SQL(`SELECT `+directiveColumns+` FROM {tenant}.directives WHERE idempotency_key = $1`), req.IdempotencyKey)
		if err != nil {
			return Directive{}, false, fmt.Errorf("request %s: read existing directive: %w", req.Kind, err)
		}
		if dir.Name != req.Kind {
			return Directive{}, false, fmt.Errorf("idempotency key already used for a %s directive: %w", dir.Name, ErrConflict)
		}
		return dir, false, nil
	} else if err != nil {
		return Directive{}, false, fmt.Errorf("request %s: insert directive: %w", req.Kind, err)
	}
	if err := enqueueDirective(ctx, tx, t, dir); err != nil {
		return Directive{}, false, err
	}
	if err := s.emitDirectiveSignal(ctx, tx, t, dir, "directive.requested", actorFor(req.UserID), nil); err != nil {
		return Directive{}, false, err
	}
	return dir, true, nil
}

func directiveJobKey(t Tenant, id string) string { return "directive:" + t.Schema() + ":" + id }

// DirectiveArgs are a DirectiveJob's arguments.
type DirectiveArgs struct {
	ID string `json:"id"`
}

func enqueueDirective(ctx context.Context, tx *sqlx.Tx, t Tenant, dir Directive) error {
	_, _, err := jobs.Enqueue(ctx, tx, jobs.Params{
		Kind: DirectiveJob, Tenant: t.Schema(), Args: DirectiveArgs{ID: dir.ID},
		// The directive counts its own attempts; the job's spare ones
		// cover failures around the executor (the database going away).
		MaxAttempts: dir.MaxAttempts + 3,
		UniqueKey:   directiveJobKey(t, dir.ID),
	})
	if err != nil {
		return fmt.Errorf("enqueue directive %s: %w", dir.ID, err)
	}
	return nil
}

// emitDirectiveSignal records a directive.* signal about dir: its subject
// is the directive's subject (so it shows in that subject's audit trail),
// its correlation id the directive's id, and its causation whatever
// caused the directive.
func (s *Store) emitDirectiveSignal(ctx context.Context, tx *sqlx.Tx, t Tenant, dir Directive, name string, actor Actor, extra map[string]any) error {
	payload := map[string]any{"directive_id": dir.ID, "kind": dir.Name, "status": dir.Status, "attempt": dir.Attempt}
	for k, v := range extra {
		payload[k] = v
	}
	subject := dir.Subject()
	if subject.Type == "" {
		subject = Subject{Type: "directive", ID: dir.ID}
	}
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
		Name: name, Payload: payload, Actor: actor, Subject: subject, Source: "directives",
		CorrelationID: dir.ID, CausationID: dir.CausationID,
	})
	return err
}

func actorFor(userID int64) Actor {
	if userID == 0 {
		return SystemActor("directives")
	}
	return UserActor(userID)
}

// DirectiveForUpdate reads a directive and locks its row until tx ends:
// every status change takes this lock first, so two workers (a rescued
// attempt and the one it replaced) never both move it.
func (s *Store) DirectiveForUpdate(ctx context.Context, tx *sqlx.Tx, t Tenant, id string) (Directive, error) {
	var dir Directive
	if !IsUUID(id) {
		return dir, fmt.Errorf("directive %q: %w", id, ErrNotFound)
	}
	err := tx.GetContext(ctx, &dir, t.SQL(`SELECT `+directiveColumns+` FROM {tenant}.directives WHERE id = $1 FOR UPDATE`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return dir, fmt.Errorf("directive %s: %w", id, ErrNotFound)
	} else if err != nil {
		return dir, fmt.Errorf("read directive %s: %w", id, err)
	}
	return dir, nil
}

// StartDirectiveTx moves a directive to running under a new attempt, with
// directive.started.
func (s *Store) StartDirectiveTx(ctx context.Context, tx *sqlx.Tx, t Tenant, id string) (Directive, error) {
	var dir Directive
	if err := tx.GetContext(ctx, &dir, t.SQL(`UPDATE {tenant}.directives
		SET status = 'running', attempt = attempt + 1, started_at = now(), updated_at = now()
		WHERE id = $1 RETURNING `+directiveColumns), id); err != nil {
		return dir, fmt.Errorf("start directive: %w", err)
	}
	return dir, s.emitDirectiveSignal(ctx, tx, t, dir, "directive.started", SystemActor("worker"), nil)
}

// SucceedDirectiveTx marks a running directive succeeded with its result,
// with directive.succeeded, in the transaction of its effects.
func (s *Store) SucceedDirectiveTx(ctx context.Context, tx *sqlx.Tx, t Tenant, id string, result json.RawMessage) (Directive, error) {
	var dir Directive
	if err := tx.GetContext(ctx, &dir, t.SQL(`UPDATE {tenant}.directives
		SET status = 'succeeded', result = $2, completed_at = now(), updated_at = now()
		WHERE id = $1 RETURNING `+directiveColumns), id, result); err != nil {
		return dir, fmt.Errorf("mark directive succeeded: %w", err)
	}
	return dir, s.emitDirectiveSignal(ctx, tx, t, dir, "directive.succeeded", SystemActor("worker"), nil)
}

// RequeueDirectiveTx puts a directive whose attempt failed back to
// requested, keeping the error; its job's retry runs the next attempt.
func (s *Store) RequeueDirectiveTx(ctx context.Context, tx *sqlx.Tx, t Tenant, id, errText string) error {
	_, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.directives
		SET status = 'requested', last_error = $2, last_error_at = now(), updated_at = now() WHERE id = $1`), id, errText)
	if err != nil {
		return fmt.Errorf("requeue directive: %w", err)
	}
	return nil
}

// FailDirectiveTx marks a directive failed for good with its error, with
// directive.failed.
func (s *Store) FailDirectiveTx(ctx context.Context, tx *sqlx.Tx, t Tenant, id, errText string) (Directive, error) {
	var dir Directive
	if err := tx.GetContext(ctx, &dir, t.SQL(`UPDATE {tenant}.directives
		SET status = 'failed', last_error = $2, last_error_at = now(), completed_at = now(), updated_at = now()
		WHERE id = $1 RETURNING `+directiveColumns), id, errText); err != nil {
		return dir, fmt.Errorf("mark directive failed: %w", err)
	}
	return dir, s.emitDirectiveSignal(ctx, tx, t, dir, "directive.failed", SystemActor("worker"), map[string]any{"error": errText})
}

// RetryDirective moves a failed directive back to requested with a fresh
// set of attempts and queues it again. Anything but a failed directive is
// ErrConflict.
func (s *Store) RetryDirective(ctx context.Context, t Tenant, id string, userID int64) (Directive, error) {
	var dir Directive
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.DirectiveForUpdate(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if cur.Status != DirectiveFailed {
			return fmt.Errorf("directive is %s; only a failed directive can be retried: %w", cur.Status, ErrConflict)
		}
		if err := tx.GetContext(ctx, &dir, t.SQL(`UPDATE {tenant}.directives
			SET status = 'requested', attempt = 0, started_at = NULL, completed_at = NULL, scheduled_at = now(), updated_at = now()
			WHERE id = $1 RETURNING `+directiveColumns), id); err != nil {
			return fmt.Errorf("retry directive: %w", err)
		}
		if err := enqueueDirective(ctx, tx, t, dir); err != nil {
			return err
		}
		return s.emitDirectiveSignal(ctx, tx, t, dir, "directive.requested", actorFor(userID), map[string]any{"retry": true})
	})
	return dir, err
}

// CancelDirective cancels a directive that has not started (requested,
// including one waiting to retry) and withdraws its queued job. Anything
// else is ErrConflict.
func (s *Store) CancelDirective(ctx context.Context, t Tenant, id string, userID int64) (Directive, error) {
	var dir Directive
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.DirectiveForUpdate(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if cur.Status != DirectiveRequested {
			return fmt.Errorf("directive is %s; only a requested directive can be canceled: %w", cur.Status, ErrConflict)
		}
		if err := tx.GetContext(ctx, &dir, t.SQL(`UPDATE {tenant}.directives
			SET status = 'canceled', completed_at = now(), updated_at = now()
			WHERE id = $1 RETURNING `+directiveColumns), id); err != nil {
			return fmt.Errorf("cancel directive: %w", err)
		}
		// A job already running finds the directive canceled and stops.
		if _, err := jobs.CancelByKey(ctx, tx, directiveJobKey(t, id)); err != nil {
			return err
		}
		return s.emitDirectiveSignal(ctx, tx, t, dir, "directive.canceled", actorFor(userID), nil)
	})
	return dir, err
}

// Directive returns one directive; ErrNotFound for a foreign or malformed id.
func (s *Store) Directive(ctx context.Context, t Tenant, id string) (Directive, error) {
	var dir Directive
	if !IsUUID(id) {
		return dir, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &dir, t.SQL(`SELECT `+directiveColumns+` FROM {tenant}.directives WHERE id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return dir, ErrNotFound
	} else if err != nil {
		return dir, fmt.Errorf("read directive %s: %w", id, err)
	}
	return dir, nil
}

// DirectiveFilter selects directives for ListDirectives; empty fields do
// not filter.
type DirectiveFilter struct {
	Status string
	Kind   string
	// Before is the cursor from the previous page's Next.
	Before string
	Limit  int // default 50, at most 500
}

// DirectivePage is one page of directives, newest first. Next is the
// cursor of the following page, "" when this is the last.
type DirectivePage struct {
	Directives []Directive
	Next       string
}

// ListDirectives pages through a tenant's directives, newest first.
func (s *Store) ListDirectives(ctx context.Context, t Tenant, f DirectiveFilter) (DirectivePage, error) {
	limit := clampLimit(f.Limit, 500)
	var c conds
	c.eq("status", f.Status)
	c.eq("name", f.Kind)
	if err := c.afterTime("before", f.Before, "created_at, id", "<"); err != nil {
		return DirectivePage{}, err
	}
	q := `SELECT ` + directiveColumns + ` FROM {tenant}.directives` + c.sql() + ` ORDER BY created_at DESC, id DESC` + c.limit(limit+1)
	var page DirectivePage
	if err := s.DB.SelectContext(ctx, &page.Directives, t.SQL(q), c.args...); err != nil {
		return page, fmt.Errorf("list directives: %w", err)
	}
	if len(page.Directives) > limit {
		page.Directives = page.Directives[:limit]
		last := page.Directives[limit-1]
		page.Next = TimeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// DirectivesBySubjects returns the directives about any of subjects,
// oldest first, for audit trails.
func (s *Store) DirectivesBySubjects(ctx context.Context, t Tenant, subjects []Subject, limit int) ([]Directive, error) {
	if len(subjects) == 0 {
		return nil, nil
	}
	types, ids := splitSubjects(subjects)
	var out []Directive
	err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+directiveColumns+` FROM {tenant}.directives
		WHERE (subject_type, subject_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY created_at, id LIMIT $3`), pq.Array(types), pq.Array(ids), clampLimit(limit, 5000))
	if err != nil {
		return nil, fmt.Errorf("read directives by subject: %w", err)
	}
	return out, nil
}

// DirectiveCounts returns how many directives the tenant has per status
// (for the dashboard).
func (s *Store) DirectiveCounts(ctx context.Context, t Tenant) (map[string]int, error) {
	rows, err := s.DB.QueryContext(ctx, t.SQL(`SELECT status, count(*) FROM {tenant}.directives GROUP BY status`))
	if err != nil {
		return nil, fmt.Errorf("count directives: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
