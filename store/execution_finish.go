package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// FailuresToError is how many failed runs in a row move an agent to error.
const FailuresToError = 5

// nilAgent keys the built-in assistant's usage.
const nilAgent = "00000000-0000-0000-0000-000000000000"

// ExecutionOutcome is how a run ended, as the worker saw it.
type ExecutionOutcome struct {
	ID     string
	Status string // succeeded or failed; a run canceled meanwhile stays canceled
	Output string
	// Error is what people are told; ErrorRef finds the provider's own
	// (redacted) words in the log.
	Error, ErrorRef string
	// Refused: it failed before any provider call (quota, agent not
	// active); it does not count against the agent.
	Refused          bool
	Model, Provider  string
	PromptTokens     int
	CompletionTokens int
	Cost             float64
	// Requests is how many provider requests the run made (its rounds).
	Requests  int
	ToolNames []string
	Logs      []ExecutionLog
}

// FinishExecutionTx records the outcome of a run in tx, the transaction
// that also commits whatever its output becomes (a post, a chat message)
// and its directive's success: the execution row, the day's usage, the
// agent's counters (five failures in a row move it to error), the log and
// agent.execution.succeeded|failed|canceled. done is false when the run
// was settled before (nothing is written again).
func (s *Store) FinishExecutionTx(ctx context.Context, tx *sqlx.Tx, t Tenant, o ExecutionOutcome) (e Execution, done bool, err error) {
	err = tx.GetContext(ctx, &e, t.SQL(`UPDATE {tenant}.agent_executions SET
			status = CASE WHEN status = 'canceled' THEN 'canceled' ELSE $2 END,
			output = $3, error = nullif($4, ''), error_ref = nullif($5, ''), refused = $6, model = nullif($7, ''),
			provider = nullif($8, ''), prompt_tokens = $9, completion_tokens = $10, cost = $11, tool_names = $12,
			finished_at = coalesce(finished_at, now()), settled_at = now(), updated_at = now()
		WHERE id = $1 AND settled_at IS NULL AND status IN ('queued', 'running', 'canceled')
		RETURNING `+executionColumns),
		o.ID, o.Status, o.Output, o.Error, o.ErrorRef, o.Refused, o.Model, o.Provider, o.PromptTokens, o.CompletionTokens, o.Cost,
		pq.Array(nonNil(o.ToolNames)))
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	} else if err != nil {
		return e, false, fmt.Errorf("finish execution: %w", err)
	}
	if err := s.AddExecutionLogTx(ctx, tx, t, e.ID, o.Logs); err != nil {
		return e, false, err
	}
	if err := addUsage(ctx, tx, t, e); err != nil {
		return e, false, err
	}
	if err := s.countOnAgent(ctx, tx, t, e, o.Requests); err != nil {
		return e, false, err
	}
	return e, true, s.emitExecution(ctx, tx, t, e)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func addUsage(ctx context.Context, tx *sqlx.Tx, t Tenant, e Execution) error {
	agent := e.AgentID
	if agent == "" {
		agent = nilAgent
	}
	_, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.usage_daily AS u (day, agent_id, agent_name, executions, prompt_tokens, completion_tokens, cost)
		VALUES ((now() AT TIME ZONE 'UTC')::date, $1, $2, 1, $3, $4, $5)
		ON CONFLICT (day, agent_id) DO UPDATE SET executions = u.executions + 1, agent_name = EXCLUDED.agent_name,
			prompt_tokens = u.prompt_tokens + EXCLUDED.prompt_tokens, completion_tokens = u.completion_tokens + EXCLUDED.completion_tokens,
			cost = u.cost + EXCLUDED.cost`), agent, e.AgentName, e.PromptTokens, e.CompletionTokens, e.Cost)
	if err != nil {
		return fmt.Errorf("count usage: %w", err)
	}
	return nil
}

// countOnAgent adds the run's provider requests and tokens to its agent's
// counters and keeps the failure
// streak: a success ends it, a failure (refusals and cancellations aside)
// lengthens it, and the fifth moves an active agent to error.
func (s *Store) countOnAgent(ctx context.Context, tx *sqlx.Tx, t Tenant, e Execution, requests int) error {
	if e.AgentID == "" {
		return nil
	}
	var streak int
	var state string
	err := tx.QueryRowxContext(ctx, t.SQL(`UPDATE {tenant}.agents SET
			request_count = request_count + $5,
			token_count = token_count + $3,
			consecutive_failures = CASE WHEN $4 = 'succeeded' THEN 0
			                            WHEN $4 = 'failed' AND NOT $2 THEN consecutive_failures + 1
			                            ELSE consecutive_failures END
		WHERE id = $1 RETURNING consecutive_failures, state`), e.AgentID, e.Refused, e.Tokens(), e.Status, requests).Scan(&streak, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the agent is gone; its runs stay
	} else if err != nil {
		return fmt.Errorf("count run on agent: %w", err)
	}
	if streak >= FailuresToError && state == AgentActive && e.Purpose != PurposeTest {
		reason := fmt.Sprintf("%d runs in a row failed; the last: %s", streak, e.Error)
		if _, err := s.TransitionAgentTx(ctx, tx, t, e.AgentID, "error", 0, reason); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) emitExecution(ctx context.Context, tx *sqlx.Tx, t Tenant, e Execution) error {
	c := e.Context()
	payload := map[string]any{"execution_id": e.ID, "agent_id": e.AgentID, "agent_name": e.AgentName, "purpose": e.Purpose,
		"status": e.Status, "tokens": e.Tokens(), "cost": e.Cost, "cause_type": e.CauseType, "cause_id": e.CauseID}
	if c.ThreadID != "" {
		payload["thread_id"] = c.ThreadID
	}
	if c.RunID != "" {
		payload["run_id"], payload["step_id"] = c.RunID, c.StepID
	}
	actor := SystemActor("agents")
	if e.AgentID != "" {
		actor = Actor{Type: "agent", ID: e.AgentID}
	}
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{Name: "agent.execution." + e.Status, Payload: payload, Actor: actor,
		Subject: executionSubject(e.ID, e.Purpose, c), Source: "agents", CorrelationID: e.DirectiveID})
	return err
}

// MonthTokens is the tenant's token usage so far this (UTC) month.
func (s *Store) MonthTokens(ctx context.Context, t Tenant, now time.Time) (int64, error) {
	first := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	var n int64
	if err := s.DB.GetContext(ctx, &n, t.SQL(`SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM {tenant}.usage_daily
		WHERE day >= $1::date`), dateText(first)); err != nil {
		return 0, fmt.Errorf("read month usage: %w", err)
	}
	return n, nil
}

// TokenLimit is the organization's monthly token limit (from its tier).
func (s *Store) TokenLimit(ctx context.Context, t Tenant) (int64, error) {
	var n int64
	if err := s.DB.GetContext(ctx, &n, `SELECT monthly_token_limit FROM organizations WHERE id = $1`, t.OrgID); err != nil {
		return 0, fmt.Errorf("read token limit: %w", err)
	}
	return n, nil
}
