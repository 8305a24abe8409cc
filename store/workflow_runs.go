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

// Workflow runs and their steps: the SQL of the workflow engine
// (jobs/workflow). Each change of a step or a run is a transaction-scoped
// mutator, so the engine commits a step's effect with its status.

// Run statuses.
const (
	RunRunning   = "running"
	RunWaiting   = "waiting"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCanceled  = "canceled"
)

// Step statuses.
const (
	StepPending   = "pending"
	StepRunning   = "running"
	StepWaiting   = "waiting"
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
	StepSkipped   = "skipped"
)

// WorkflowRun is one run of a workflow.
type WorkflowRun struct {
	ID           string          `db:"id"`
	WorkflowID   string          `db:"workflow_id"` // "" once the workflow is gone
	WorkflowName string          `db:"workflow_name"`
	Definition   json.RawMessage `db:"definition"`
	TriggerSeq   int64           `db:"trigger_seq"`
	TriggerID    string          `db:"trigger_id"`
	TriggerName  string          `db:"trigger_name"`
	Trigger      json.RawMessage `db:"trigger"`
	Depth        int             `db:"depth"`
	Status       string          `db:"status"`
	Error        string          `db:"error"`
	DirectiveID  string          `db:"directive_id"`
	StartedAt    time.Time       `db:"started_at"`
	FinishedAt   sql.NullTime    `db:"finished_at"`
	UpdatedAt    time.Time       `db:"updated_at"`
}

// Finished reports whether the run will not change any more on its own.
func (r WorkflowRun) Finished() bool {
	return r.Status == RunSucceeded || r.Status == RunFailed || r.Status == RunCanceled
}

// Took is how long the run took (so far).
func (r WorkflowRun) Took() time.Duration {
	end := time.Now()
	if r.FinishedAt.Valid {
		end = r.FinishedAt.Time
	}
	return end.Sub(r.StartedAt).Round(time.Millisecond)
}

const runColumns = `id, coalesce(workflow_id::text, '') AS workflow_id, workflow_name, definition, trigger_seq, trigger_id,
	trigger_name, trigger, depth, status, coalesce(error, '') AS error, coalesce(directive_id::text, '') AS directive_id,
	started_at, finished_at, updated_at`

// WorkflowStep is one step of a run.
type WorkflowStep struct {
	RunID       string        `db:"run_id"`
	StepID      string        `db:"step_id"`
	Position    int           `db:"position"`
	Kind        string        `db:"kind"`
	Status      string        `db:"status"`
	Attempt     int           `db:"attempt"`
	Input       string        `db:"input"`
	Output      string        `db:"output"`
	Error       string        `db:"error"`
	ExecutionID string        `db:"execution_id"`
	DirectiveID string        `db:"directive_id"`
	WaitUntil   sql.NullTime  `db:"wait_until"`
	DecidedBy   sql.NullInt64 `db:"decided_by_user_id"`
	StartedAt   sql.NullTime  `db:"started_at"`
	FinishedAt  sql.NullTime  `db:"finished_at"`
	UpdatedAt   time.Time     `db:"updated_at"`
}

// Done reports whether the step has finished (its dependents may go on
// when it succeeded or was skipped).
func (s WorkflowStep) Done() bool {
	return s.Status == StepSucceeded || s.Status == StepSkipped || s.Status == StepFailed
}

// Duration is how long the step took (so far).
func (s WorkflowStep) Duration() time.Duration {
	if !s.StartedAt.Valid {
		return 0
	}
	end := time.Now()
	if s.FinishedAt.Valid {
		end = s.FinishedAt.Time
	}
	return end.Sub(s.StartedAt.Time).Round(time.Millisecond)
}

const stepColumns = `run_id, step_id, position, kind, status, attempt, input, output, coalesce(error, '') AS error,
	coalesce(execution_id::text, '') AS execution_id, coalesce(directive_id::text, '') AS directive_id, wait_until,
	decided_by_user_id, started_at, finished_at, updated_at`

// NewRun is a run to start.
type NewRun struct {
	Workflow    Workflow
	Signal      Signal
	Trigger     any // the template data of .trigger
	Depth       int
	DirectiveID string
	// Steps are the definition's step ids and kinds, in order.
	Steps []NewRunStep
}

// NewRunStep is one step of a new run.
type NewRunStep struct{ ID, Kind string }

// CreateRunTx records a run and its pending steps, once per workflow and
// signal: a second start of the same pair returns the first run, created
// false.
func (s *Store) CreateRunTx(ctx context.Context, tx *sqlx.Tx, t Tenant, n NewRun) (WorkflowRun, bool, error) {
	var r WorkflowRun
	trig, err := json.Marshal(n.Trigger)
	if err != nil {
		return r, false, err
	}
	err = tx.GetContext(ctx, &r, t.SQL(`INSERT INTO {tenant}.workflow_runs (workflow_id, workflow_name, definition, trigger_seq,
			trigger_id, trigger_name, trigger, depth, directive_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (workflow_id, trigger_id) DO NOTHING RETURNING `+runColumns),
		n.Workflow.ID, n.Workflow.Name, string(n.Workflow.Definition), n.Signal.Seq, n.Signal.ID, n.Signal.Name, string(trig),
		n.Depth, nullIfEmpty(n.DirectiveID))
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.GetContext(ctx, &r, t.SQL(`SELECT `+runColumns+` FROM {tenant}.workflow_runs WHERE workflow_id = $1 AND trigger_id = $2`),
			n.Workflow.ID, n.Signal.ID)
		return r, false, err
	} else if err != nil {
		return r, false, fmt.Errorf("start run: %w", err)
	}
	for i, st := range n.Steps {
		if _, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.workflow_steps (run_id, step_id, position, kind)
			VALUES ($1, $2, $3, $4)`), r.ID, st.ID, i, st.Kind); err != nil {
			return r, false, fmt.Errorf("add step %s: %w", st.ID, err)
		}
	}
	return r, true, nil
}

// Run returns one run; RunForUpdate locks it for tx.
func (s *Store) Run(ctx context.Context, t Tenant, id string) (WorkflowRun, error) {
	return runTx(ctx, s.DB, t, id, "")
}

// RunForUpdate reads a run and locks it until tx ends: every change to
// its steps takes this lock first, so steps finishing at once advance the
// run one after the other.
func (s *Store) RunForUpdate(ctx context.Context, tx *sqlx.Tx, t Tenant, id string) (WorkflowRun, error) {
	return runTx(ctx, tx, t, id, " FOR UPDATE")
}

func runTx(ctx context.Context, q sqlx.QueryerContext, t Tenant, id, lock string) (WorkflowRun, error) {
	var r WorkflowRun
	if !IsUUID(id) {
		return r, ErrNotFound
	}
	err := sqlx.GetContext(ctx, q, &r, t.SQL(`SELECT `+runColumns+` FROM {tenant}.workflow_runs WHERE id = $1`+lock), id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	} else if err != nil {
		return r, fmt.Errorf("run %s: %w", id, err)
	}
	return r, nil
}

// Steps returns a run's steps in definition order.
func (s *Store) Steps(ctx context.Context, q sqlx.QueryerContext, t Tenant, runID string) ([]WorkflowStep, error) {
	var out []WorkflowStep
	if err := sqlx.SelectContext(ctx, q, &out, t.SQL(`SELECT `+stepColumns+` FROM {tenant}.workflow_steps
		WHERE run_id = $1 ORDER BY position`), runID); err != nil {
		return nil, fmt.Errorf("read steps: %w", err)
	}
	return out, nil
}

// StepChange is what moves on a step; nil fields stay.
type StepChange struct {
	Status      string
	Input       *string
	Output      *string
	Error       *string
	ExecutionID string
	DirectiveID string
	WaitUntil   *time.Time
	DecidedBy   int64
	NewAttempt  bool // a retry
}

// UpdateStepTx applies c to a step in tx (its run locked by the caller),
// stamping its start and end as its status moves.
func (s *Store) UpdateStepTx(ctx context.Context, tx *sqlx.Tx, t Tenant, runID, stepID string, c StepChange) (WorkflowStep, error) {
	var st WorkflowStep
	err := tx.GetContext(ctx, &st, t.SQL(`UPDATE {tenant}.workflow_steps SET
			status = $3, input = coalesce($4, input), output = coalesce($5, output),
			error = CASE WHEN $6::text IS NULL THEN error ELSE nullif($6, '') END,
			execution_id = coalesce(nullif($7, '')::uuid, execution_id), directive_id = coalesce(nullif($8, '')::uuid, directive_id),
			wait_until = CASE WHEN $3 IN ('waiting', 'running') THEN coalesce($9, wait_until) ELSE NULL END,
			decided_by_user_id = coalesce(nullif($10, 0), decided_by_user_id),
			attempt = attempt + CASE WHEN $11 OR ($3 = 'running' AND attempt = 0) THEN 1 ELSE 0 END,
			started_at = CASE WHEN $3 IN ('running', 'waiting') AND (started_at IS NULL OR $11) THEN now() ELSE started_at END,
			finished_at = CASE WHEN $3 IN ('succeeded', 'failed', 'skipped') THEN now() WHEN $11 THEN NULL ELSE finished_at END,
			updated_at = now()
		WHERE run_id = $1 AND step_id = $2 RETURNING `+stepColumns),
		runID, stepID, c.Status, c.Input, c.Output, c.Error, c.ExecutionID, c.DirectiveID, c.WaitUntil, c.DecidedBy, c.NewAttempt)
	if err != nil {
		return st, fmt.Errorf("update step %s: %w", stepID, err)
	}
	return st, nil
}

// SetRunStatusTx moves a run (locked by the caller) to status.
func (s *Store) SetRunStatusTx(ctx context.Context, tx *sqlx.Tx, t Tenant, id, status, errText string) (WorkflowRun, error) {
	var r WorkflowRun
	err := tx.GetContext(ctx, &r, t.SQL(`UPDATE {tenant}.workflow_runs SET status = $2, error = nullif($3, ''),
			finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'canceled') THEN now() ELSE NULL END, updated_at = now()
		WHERE id = $1 RETURNING `+runColumns), id, status, errText)
	if err != nil {
		return r, fmt.Errorf("set run %s: %w", status, err)
	}
	return r, nil
}

// StepByExecution finds the step an execution runs for.
func (s *Store) StepByExecution(ctx context.Context, q sqlx.QueryerContext, t Tenant, executionID string) (WorkflowStep, error) {
	return stepBy(ctx, q, t, "execution_id", executionID)
}

// StepByDirective finds the step a directive was requested by.
func (s *Store) StepByDirective(ctx context.Context, q sqlx.QueryerContext, t Tenant, directiveID string) (WorkflowStep, error) {
	return stepBy(ctx, q, t, "directive_id", directiveID)
}

func stepBy(ctx context.Context, q sqlx.QueryerContext, t Tenant, column, id string) (WorkflowStep, error) {
	var st WorkflowStep
	if !IsUUID(id) {
		return st, ErrNotFound
	}
	err := sqlx.GetContext(ctx, q, &st, t.SQL(`SELECT `+stepColumns+` FROM {tenant}.workflow_steps WHERE `+column+` = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return st, ErrNotFound
	}
	return st, err
}

// RunCause is the run a signal was caused by, if any: a run's directives
// and executions carry it as their causation, and their signals carry
// the directive as correlation or causation.
func (s *Store) RunCause(ctx context.Context, q sqlx.QueryerContext, t Tenant, sig Signal) (WorkflowRun, bool, error) {
	var ids []string
	for _, id := range []string{sig.CausationID, sig.CorrelationID} {
		if IsUUID(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return WorkflowRun{}, false, nil
	}
	var r WorkflowRun
	err := sqlx.GetContext(ctx, q, &r, t.SQL(`SELECT `+runColumns+` FROM {tenant}.workflow_runs WHERE id IN (
			SELECT x::uuid FROM unnest($1::text[]) AS x
			UNION SELECT d.causation_id FROM {tenant}.directives d WHERE d.id::text = ANY($1) AND d.causation_id IS NOT NULL)
		LIMIT 1`), pq.Array(ids))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// WorkflowRuns lists a workflow's latest runs (or every workflow's, when
// workflowID is empty), newest first.
func (s *Store) WorkflowRuns(ctx context.Context, t Tenant, workflowID string, limit int) ([]WorkflowRun, error) {
	var out []WorkflowRun
	q := `SELECT ` + runColumns + ` FROM {tenant}.workflow_runs`
	args := []any{clampLimit(limit, 200)}
	if workflowID != "" {
		q += ` WHERE workflow_id::text = $2`
		args = append(args, workflowID)
	}
	if err := s.DB.SelectContext(ctx, &out, t.SQL(q+` ORDER BY started_at DESC LIMIT $1`), args...); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// LatestRuns is each workflow's newest run, by workflow id.
func (s *Store) LatestRuns(ctx context.Context, t Tenant) (map[string]WorkflowRun, error) {
	var rows []WorkflowRun
	if err := s.DB.SelectContext(ctx, &rows, t.SQL(`SELECT DISTINCT ON (workflow_id) `+runColumns+`
		FROM {tenant}.workflow_runs WHERE workflow_id IS NOT NULL ORDER BY workflow_id, started_at DESC`)); err != nil {
		return nil, fmt.Errorf("latest runs: %w", err)
	}
	out := make(map[string]WorkflowRun, len(rows))
	for _, r := range rows {
		out[r.WorkflowID] = r
	}
	return out, nil
}
