package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
)

// Directives record intent (SPEC §7): who asked for which change, with what
// payload, and how it went. A directive's status is the single source of
// truth and moves requested → running → succeeded | failed (or requested →
// canceled). Its executor's tenant writes, the status change to succeeded
// and the signals commit in one transaction, so the effect happens exactly
// once even when a worker dies mid-way and the job runs again.

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

// The forum moderation kinds of SPEC §7. The package kinds are declared
// in installations.go; each kind's executor is registered by the code
// that owns the change.
const (
	DirectiveThreadLock   = "forum.thread.lock"
	DirectiveThreadUnlock = "forum.thread.unlock"
	DirectivePostHide     = "forum.post.hide"
	DirectivePostUnhide   = "forum.post.unhide"
	DirectivePostDelete   = "forum.post.delete"
)

// DefaultDirectiveAttempts is a directive's max_attempts unless the
// request says otherwise.
const DefaultDirectiveAttempts = 5

var (
	directiveKind = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)+$`)
)

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

const directiveColumns = `id::text AS id, name, coalesce(idempotency_key, '') AS idempotency_key, status, payload,
	coalesce(result, 'null'::jsonb) AS result, attempt, max_attempts,
	coalesce(subject_type, '') AS subject_type, coalesce(subject_id, '') AS subject_id, scheduled_at, started_at,
	completed_at, coalesce(last_error, '') AS last_error, last_error_at,
	coalesce(requested_by_user_id, 0) AS requested_by_user_id,
	created_at, updated_at`

// DirectiveExecutorFunc carries out a directive inside tx, the transaction
// that also marks it succeeded and emits its signals: write through tx
// only, and emit the change's own signals (e.g. forum.thread.locked) with
// s.EmitSignal on tx. Returning an error rolls everything back; the
// directive is retried with backoff, or fails at once when the error is a
// refusal (a *ValidationError, or wrapped with jobs.Permanent). result is
// stored as JSON.
type DirectiveExecutorFunc func(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive) (result any, err error)

// DirectiveFailureFunc records, in the transaction that marks the
// directive failed for good, what the failure means for the kind's own
// rows (an installation showing the error, say). The executor's writes
// were rolled back; cause is the last attempt's error.
type DirectiveFailureFunc func(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive, cause error) error

// Directives is the registry of executors keyed by directive kind, and the
// operations that need it: requesting (unknown kinds are refused) and
// executing. Build one at boot, Register every kind, RegisterJobs on the
// runner.
type Directives struct {
	store     *Store
	log       *slog.Logger
	mu        sync.RWMutex
	executors map[string]DirectiveExecutorFunc
	failures  map[string]DirectiveFailureFunc
}

// NewDirectives makes an empty registry.
func NewDirectives(s *Store, log *slog.Logger) *Directives {
	if log == nil {
		log = slog.Default()
	}
	return &Directives{store: s, log: log.With("component", "directives"), executors: map[string]DirectiveExecutorFunc{},
		failures: map[string]DirectiveFailureFunc{}}
}

// Register sets the executor of a kind. A malformed or repeated kind is a
// wiring mistake and panics at boot.
func (d *Directives) Register(kind string, fn DirectiveExecutorFunc) {
	if !directiveKind.MatchString(kind) || fn == nil {
		panic(fmt.Sprintf("directives: bad kind %q or nil executor", kind))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, dup := d.executors[kind]; dup {
		panic("directives: two executors for " + kind)
	}
	d.executors[kind] = fn
}

// OnFailure sets what to record when a directive of kind fails for good
// (optional; after Register).
func (d *Directives) OnFailure(kind string, fn DirectiveFailureFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.executors[kind]; !ok || fn == nil {
		panic("directives: OnFailure(" + kind + ") before Register or with a nil func")
	}
	d.failures[kind] = fn
}

func (d *Directives) failure(kind string) DirectiveFailureFunc {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.failures[kind]
}

// Kinds lists the registered kinds, sorted.
func (d *Directives) Kinds() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]string, 0, len(d.executors))
	for k := range d.executors {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (d *Directives) executor(kind string) DirectiveExecutorFunc {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.executors[kind]
}

// RegisterJobs registers the executing job kind on a runner.
func (d *Directives) RegisterJobs(r *jobs.Runner) { r.Handle(DirectiveJob, d.execute) }

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
}

// Request records a directive, its job and its directive.requested signal
// in one transaction. created is false when the idempotency key was seen
// before: the existing directive is returned and nothing new is queued. An
// unknown kind is a *ValidationError; the same key with another kind is
// ErrConflict.
func (d *Directives) Request(ctx context.Context, t Tenant, req DirectiveRequest) (dir Directive, created bool, err error) {
	err = d.store.Tx(ctx, func(tx *sqlx.Tx) error {
		dir, created, err = d.RequestTx(ctx, tx, t, req)
		return err
	})
	return dir, created, err
}

// RequestTx is Request inside the caller's transaction, for a change that
// must commit together with other writes.
func (d *Directives) RequestTx(ctx context.Context, tx *sqlx.Tx, t Tenant, req DirectiveRequest) (Directive, bool, error) {
	if d.executor(req.Kind) == nil {
		return Directive{}, false, Invalid("kind", fmt.Sprintf("%q is not a known directive kind", req.Kind))
	}
	if len(req.IdempotencyKey) > 200 {
		return Directive{}, false, Invalid("idempotency_key", "must be at most 200 characters")
	}
	if (req.Subject.Type == "") != (req.Subject.ID == "") {
		return Directive{}, false, Invalid("subject", "needs both a type and an id, or neither")
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
		INSERT INTO {tenant}.directives (name, idempotency_key, payload, max_attempts, subject_type, subject_id, requested_by_user_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING `+directiveColumns),
		req.Kind, nullIfEmpty(req.IdempotencyKey), payload, maxAttempts, nullIfEmpty(req.Subject.Type), nullIfEmpty(req.Subject.ID),
		sql.NullInt64{Int64: req.UserID, Valid: req.UserID != 0})
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
	if err := d.store.enqueueDirective(ctx, tx, t, dir); err != nil {
		return Directive{}, false, err
	}
	actor := SystemActor("directives")
	if req.UserID != 0 {
		actor = UserActor(req.UserID)
	}
	if err := d.store.emitDirectiveSignal(ctx, tx, t, dir, "directive.requested", actor, nil); err != nil {
		return Directive{}, false, err
	}
	return dir, true, nil
}

func directiveJobKey(t Tenant, id string) string { return "directive:" + t.Schema() + ":" + id }

type directiveArgs struct {
	ID string `json:"id"`
}

func (s *Store) enqueueDirective(ctx context.Context, tx *sqlx.Tx, t Tenant, dir Directive) error {
	_, _, err := jobs.Enqueue(ctx, tx, jobs.Params{
		Kind: DirectiveJob, Tenant: t.Schema(), Args: directiveArgs{ID: dir.ID},
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
// and its correlation id the directive's id.
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
		Name: name, Payload: payload, Actor: actor, Subject: subject, Source: "directives", CorrelationID: dir.ID,
	})
	return err
}

// errSuperseded aborts an execution whose claim was taken over.
var errSuperseded = errors.New("directive attempt superseded")

// execute is the DirectiveJob handler.
func (d *Directives) execute(ctx context.Context, j *jobs.Job) error {
	var args directiveArgs
	if err := j.DecodeArgs(&args); err != nil {
		return jobs.Permanent(err)
	}
	t, err := d.store.TenantBySchema(ctx, j.Tenant)
	if errors.Is(err, ErrNotFound) {
		return jobs.Permanent(err)
	} else if err != nil {
		return err
	}
	s := d.store
	worker := SystemActor("worker")

	// 1. Claim: requested → running, attempt+1, directive.started. A
	// directive left running by a dead worker is claimed again.
	var dir Directive
	var fn DirectiveExecutorFunc
	claimed := false
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.directiveForUpdate(ctx, tx, t, args.ID)
		if err != nil {
			return err
		}
		if cur.Status != DirectiveRequested && cur.Status != DirectiveRunning {
			return nil // finished or canceled: a repeated job has nothing to do
		}
		if fn = d.executor(cur.Name); fn == nil {
			return fmt.Errorf("no executor registered for directive kind %q in this worker", cur.Name)
		}
		if cur.Attempt >= cur.MaxAttempts {
			// Its last attempt died with its worker.
			return d.fail(ctx, tx, t, cur, errors.New("the worker executing the last attempt stopped before it finished"))
		}
		if err := tx.GetContext(ctx, &dir, t.SQL(`UPDATE {tenant}.directives
			SET status = 'running', attempt = attempt + 1, started_at = now(), updated_at = now()
			WHERE id = $1 RETURNING `+directiveColumns), cur.ID); err != nil {
			return fmt.Errorf("claim directive: %w", err)
		}
		claimed = true
		return s.emitDirectiveSignal(ctx, tx, t, dir, "directive.started", worker, nil)
	})
	if errors.Is(err, ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil || !claimed {
		return err
	}

	// 2. Execute and succeed in one transaction.
	var execErr error
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.directiveForUpdate(ctx, tx, t, dir.ID)
		if err != nil {
			return err
		}
		if cur.Status != DirectiveRunning || cur.Attempt != dir.Attempt {
			return errSuperseded // another worker took over after a rescue
		}
		result, err := runExecutor(ctx, fn, tx, t, dir)
		if err != nil {
			execErr = err
			return err
		}
		resJSON, err := json.Marshal(result)
		if err != nil {
			execErr = jobs.Permanent(fmt.Errorf("marshal result: %w", err))
			return execErr
		}
		if err := tx.GetContext(ctx, &dir, t.SQL(`UPDATE {tenant}.directives
			SET status = 'succeeded', result = $2, completed_at = now(), updated_at = now()
			WHERE id = $1 RETURNING `+directiveColumns), dir.ID, resJSON); err != nil {
			return fmt.Errorf("mark directive succeeded: %w", err)
		}
		return s.emitDirectiveSignal(ctx, tx, t, dir, "directive.succeeded", worker, nil)
	})
	switch {
	case err == nil, errors.Is(err, errSuperseded):
		return nil
	case execErr == nil:
		// The database failed around the executor: the directive stays
		// running and the job's retry claims it again.
		return err
	}

	// 3. The executor failed and its effects rolled back: record the
	// error, then retry (the job's backoff) or give up.
	var refusal *ValidationError
	permanent := jobs.IsPermanent(execErr) || errors.As(execErr, &refusal)
	failed := false
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.directiveForUpdate(ctx, tx, t, dir.ID)
		if err != nil {
			return err
		}
		if cur.Status != DirectiveRunning || cur.Attempt != dir.Attempt {
			return errSuperseded
		}
		if permanent || cur.Attempt >= cur.MaxAttempts {
			failed = true
			return d.fail(ctx, tx, t, cur, execErr)
		}
		_, err = tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.directives
			SET status = 'requested', last_error = $2, last_error_at = now(), updated_at = now() WHERE id = $1`), dir.ID, failureText(execErr))
		return err
	})
	switch {
	case errors.Is(err, errSuperseded):
		return nil
	case err != nil:
		return fmt.Errorf("record directive failure (%v): %w", execErr, err)
	case failed:
		d.log.Warn("directive failed", "tenant", t.Schema(), "directive_id", dir.ID, "kind", dir.Name, "attempt", dir.Attempt, "err", execErr)
		return nil
	}
	return fmt.Errorf("directive %s attempt %d: %w", dir.Name, dir.Attempt, execErr)
}

// failureText is the error as a directive keeps it: a refusal's own
// words without the "invalid input" framing.
func failureText(err error) string {
	var v *ValidationError
	if errors.As(err, &v) {
		if m := v.Fields[""]; m != "" && len(v.Fields) == 1 {
			return m
		}
		return strings.TrimPrefix(v.Error(), "invalid input: ")
	}
	return err.Error()
}

// runExecutor calls fn, turning a panic into an error so it is recorded
// on the directive like any failure.
func runExecutor(ctx context.Context, fn DirectiveExecutorFunc, tx *sqlx.Tx, t Tenant, dir Directive) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("executor panicked: %v", p)
		}
	}()
	return fn(ctx, tx, t, dir)
}

// fail marks a directive failed for good, with its directive.failed
// signal and the kind's OnFailure record, in tx.
func (d *Directives) fail(ctx context.Context, tx *sqlx.Tx, t Tenant, cur Directive, cause error) error {
	msg := failureText(cause)
	var dir Directive
	if err := tx.GetContext(ctx, &dir, t.SQL(`UPDATE {tenant}.directives
		SET status = 'failed', last_error = $2, last_error_at = now(), completed_at = now(), updated_at = now()
		WHERE id = $1 RETURNING `+directiveColumns), cur.ID, msg); err != nil {
		return fmt.Errorf("mark directive failed: %w", err)
	}
	if err := d.store.emitDirectiveSignal(ctx, tx, t, dir, "directive.failed", SystemActor("worker"), map[string]any{"error": msg}); err != nil {
		return err
	}
	if fn := d.failure(dir.Name); fn != nil {
		if err := fn(ctx, tx, t, dir, cause); err != nil {
			return fmt.Errorf("record %s failure: %w", dir.Name, err)
		}
	}
	return nil
}

func (s *Store) directiveForUpdate(ctx context.Context, tx *sqlx.Tx, t Tenant, id string) (Directive, error) {
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

// RetryDirective moves a failed directive back to requested with a fresh
// set of attempts and queues it again. Anything but a failed directive is
// ErrConflict.
func (s *Store) RetryDirective(ctx context.Context, t Tenant, id string, userID int64) (Directive, error) {
	var dir Directive
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := s.directiveForUpdate(ctx, tx, t, id)
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
		if err := s.enqueueDirective(ctx, tx, t, dir); err != nil {
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
		cur, err := s.directiveForUpdate(ctx, tx, t, id)
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

func actorFor(userID int64) Actor {
	if userID == 0 {
		return SystemActor("directives")
	}
	return UserActor(userID)
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
