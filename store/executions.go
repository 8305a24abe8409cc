package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Executions are runs of an agent on an input (SPEC §12), whatever asked
// for them: this file is their SQL. The agent engine (jobs/agent) runs
// them: requested here with their agent.execute directive, marked running
// by the worker, progress saved as the answer streams, and finished in one
// transaction with the usage, the agent's counters, the signal and
// whatever the output becomes (a chat message, a forum post).

// Execution statuses.
const (
	ExecQueued    = "queued"
	ExecRunning   = "running"
	ExecSucceeded = "succeeded"
	ExecFailed    = "failed"
	ExecCanceled  = "canceled"
)

// Execution purposes: what the output is for.
const (
	PurposeRun        = "run"         // a person, the API
	PurposeTest       = "test"        // a deploy's check
	PurposeChat       = "chat"        // a chat answer
	PurposeForumReply = "forum_reply" // a mention, "ask an agent"
	PurposeWorkflow   = "workflow"    // a workflow's agent step
)

// DirectiveAgentExecute runs one execution; DirectiveAgentDeploy tests an
// agent that is deploying and activates it.
const (
	DirectiveAgentExecute = "agent.execute"
	DirectiveAgentDeploy  = "agent.deploy"
)

// MaxExecutionInput bounds an execution's input, in characters.
const MaxExecutionInput = 20000

// SubjectExecution is the subject type of execution signals.
const SubjectExecution = "agent_execution"

// Execution is one run.
type Execution struct {
	ID               string          `db:"id"`
	AgentID          string          `db:"agent_id"` // "" for the built-in assistant or a removed agent
	AgentName        string          `db:"agent_name"`
	Status           string          `db:"status"`
	Purpose          string          `db:"purpose"`
	Input            string          `db:"input"`
	Output           string          `db:"output"`
	Error            string          `db:"error"`
	ErrorRef         string          `db:"error_ref"`
	Refused          bool            `db:"refused"`
	Model            string          `db:"model"`
	Provider         string          `db:"provider"`
	PromptTokens     int             `db:"prompt_tokens"`
	CompletionTokens int             `db:"completion_tokens"`
	Cost             float64         `db:"cost"`
	CauseType        string          `db:"cause_type"`
	CauseID          string          `db:"cause_id"`
	RequestedBy      int64           `db:"requested_by_user_id"`
	DirectiveID      string          `db:"directive_id"`
	ContextJSON      json.RawMessage `db:"context"`
	Attempt          int             `db:"attempt"`
	Tools            pq.StringArray  `db:"tool_names"`
	QueuedAt         time.Time       `db:"queued_at"`
	StartedAt        sql.NullTime    `db:"started_at"`
	FinishedAt       sql.NullTime    `db:"finished_at"`
	SettledAt        sql.NullTime    `db:"settled_at"`
	UpdatedAt        time.Time       `db:"updated_at"`
}

// ExecutionContext says where an execution belongs.
type ExecutionContext struct {
	ConversationID string `json:"conversation_id,omitempty"`
	MessageID      string `json:"message_id,omitempty"`
	UserID         int64  `json:"user_id,omitempty"` // the conversation's owner
	ThreadID       string `json:"thread_id,omitempty"`
	PostID         string `json:"post_id,omitempty"` // the post that asked
	RunID          string `json:"run_id,omitempty"`
	StepID         string `json:"step_id,omitempty"`
	// ShowInThread: the answer is written live into ThreadID's open pages
	// (a forum reply always is; a workflow's agent step when it says so).
	ShowInThread bool `json:"show_in_thread,omitempty"`
}

// Context decodes where the execution belongs.
func (e Execution) Context() ExecutionContext {
	var c ExecutionContext
	json.Unmarshal(e.ContextJSON, &c) // ours
	return c
}

// Finished reports whether the execution will not change any more.
func (e Execution) Finished() bool {
	return e.Status == ExecSucceeded || e.Status == ExecFailed || e.Status == ExecCanceled
}

// Private reports whether only one member may see the execution: a chat
// answer is its conversation's owner's alone.
func (e Execution) Private() bool { return e.Purpose == PurposeChat }

// VisibleTo reports whether userID may see the execution.
func (e Execution) VisibleTo(userID int64) bool { return !e.Private() || e.Context().UserID == userID }

// ToolNames lists the tools the run called, in order.
func (e Execution) ToolNames() []string { return []string(e.Tools) }

// Tokens is the execution's total token usage.
func (e Execution) Tokens() int { return e.PromptTokens + e.CompletionTokens }

// Duration is how long it ran (so far).
func (e Execution) Duration() time.Duration {
	if !e.StartedAt.Valid {
		return 0
	}
	end := time.Now()
	if e.FinishedAt.Valid {
		end = e.FinishedAt.Time
	}
	return end.Sub(e.StartedAt.Time)
}

const executionColumns = `id, coalesce(agent_id::text, '') AS agent_id, agent_name, status, purpose, input, output,
	coalesce(error, '') AS error, coalesce(error_ref, '') AS error_ref, refused, coalesce(model, '') AS model,
	coalesce(provider, '') AS provider, prompt_tokens, completion_tokens, cost, cause_type, coalesce(cause_id, '') AS cause_id,
	coalesce(requested_by_user_id, 0) AS requested_by_user_id, coalesce(directive_id::text, '') AS directive_id, context,
	attempt, tool_names, queued_at, started_at, finished_at, settled_at, updated_at`

// Cause is what asked for an execution: a person ("user"), a chat
// message, a signal, a workflow step, an API key, a forum post, a deploy.
type Cause struct{ Type, ID string }

// NewExecution asks an agent to run.
type NewExecution struct {
	// AgentID is the agent; "" runs the built-in assistant (chat only).
	AgentID string
	Purpose string
	Input   string
	Cause   Cause
	UserID  int64 // who asked, 0 for the platform
	Context ExecutionContext
	// IdempotencyKey makes a resent request return the first execution.
	IdempotencyKey string
	// CausationID is the signal or run that caused it, carried by the
	// directive's signals.
	CausationID string
}

func (n *NewExecution) check() error {
	n.Input = strings.TrimSpace(strings.ReplaceAll(n.Input, "\r\n", "\n"))
	switch c := utf8.RuneCountInString(n.Input); {
	case c == 0:
		return Invalid("input", "Write what the agent should work on.")
	case c > MaxExecutionInput:
		return Invalid("input", fmt.Sprintf("is too long: at most %d characters", MaxExecutionInput))
	}
	if n.Cause.Type == "" {
		return errors.New("an execution needs a cause")
	}
	return nil
}

// ExecutionArgs is the payload of agent.execute.
type ExecutionArgs struct {
	ExecutionID string `json:"execution_id"`
}

// executionSubject is what an execution's signals are about: the
// execution, or for a private one the chat message it answers (the live
// layer shows chat subjects to their owner alone).
func executionSubject(id string, purpose string, c ExecutionContext) Subject {
	if purpose == PurposeChat {
		return Subject{Type: SubjectChatMessage, ID: c.MessageID}
	}
	return Subject{Type: SubjectExecution, ID: id}
}

// RequestExecution is RequestExecutionTx in a transaction of its own.
func (s *Store) RequestExecution(ctx context.Context, t Tenant, n NewExecution) (e Execution, err error) {
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		e, err = s.RequestExecutionTx(ctx, tx, t, n)
		return err
	})
	return e, err
}

// RequestExecutionTx records a queued execution and its agent.execute
// directive (whose job runs it) in tx. Only an active agent runs (a
// deploy's test runs the agent it deploys); anything else is refused with
// the reason. A resent idempotency key returns the first execution.
func (s *Store) RequestExecutionTx(ctx context.Context, tx *sqlx.Tx, t Tenant, n NewExecution) (Execution, error) {
	var e Execution
	if err := n.check(); err != nil {
		return e, err
	}
	name := BuiltInAssistant
	if n.AgentID != "" {
		a, err := agentByID(ctx, tx, t, n.AgentID, false)
		if err != nil {
			return e, err
		}
		deploying := n.Purpose == PurposeTest && a.State == AgentDeploying && !a.Archived()
		if !a.Active() && !deploying {
			return e, a.NotRunning()
		}
		name = a.Name
	}
	var id string
	if err := tx.GetContext(ctx, &id, `SELECT gen_random_uuid()::text`); err != nil {
		return e, err
	}
	dir, created, err := s.RequestDirectiveTx(ctx, tx, t, DirectiveRequest{
		Kind: DirectiveAgentExecute, Payload: ExecutionArgs{ExecutionID: id}, IdempotencyKey: n.IdempotencyKey,
		UserID: n.UserID, Subject: executionSubject(id, n.Purpose, n.Context), CausationID: n.CausationID,
		// A provider that fails is retried by the engine's own rules; the
		// directive runs its execution once more at most.
		MaxAttempts: 2,
	})
	if err != nil {
		return e, err
	}
	if !created {
		var args ExecutionArgs
		if err := dir.Decode(&args); err != nil {
			return e, err
		}
		return s.executionTx(ctx, tx, t, args.ExecutionID)
	}
	cx, _ := json.Marshal(n.Context)
	err = tx.GetContext(ctx, &e, t.SQL(`INSERT INTO {tenant}.agent_executions (id, agent_id, agent_name, purpose, input,
			cause_type, cause_id, requested_by_user_id, directive_id, context)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+executionColumns),
		id, nullIfEmpty(n.AgentID), name, n.Purpose, n.Input, n.Cause.Type, nullIfEmpty(n.Cause.ID),
		sql.NullInt64{Int64: n.UserID, Valid: n.UserID != 0}, dir.ID, cx)
	if err != nil {
		return e, fmt.Errorf("insert execution: %w", err)
	}
	return e, nil
}

func (s *Store) executionTx(ctx context.Context, q sqlx.QueryerContext, t Tenant, id string) (Execution, error) {
	var e Execution
	if !IsUUID(id) {
		return e, ErrNotFound
	}
	err := sqlx.GetContext(ctx, q, &e, t.SQL(`SELECT `+executionColumns+` FROM {tenant}.agent_executions WHERE id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	} else if err != nil {
		return e, fmt.Errorf("execution %s: %w", id, err)
	}
	return e, nil
}

// Execution returns one execution of the tenant; the caller checks
// VisibleTo for the viewer.
func (s *Store) Execution(ctx context.Context, t Tenant, id string) (Execution, error) {
	return s.executionTx(ctx, s.DB, t, id)
}

// StartExecution moves a queued execution (or one left running by a dead
// worker) to running under a new attempt. ok is false when it is finished
// or canceled: there is nothing to run.
func (s *Store) StartExecution(ctx context.Context, t Tenant, id string) (e Execution, ok bool, err error) {
	err = s.DB.GetContext(ctx, &e, t.SQL(`UPDATE {tenant}.agent_executions
		SET status = 'running', attempt = attempt + 1, started_at = coalesce(started_at, now()), output = '', updated_at = now()
		WHERE id = $1 AND status IN ('queued', 'running') RETURNING `+executionColumns), id)
	if errors.Is(err, sql.ErrNoRows) {
		e, err = s.Execution(ctx, t, id)
		return e, false, err
	} else if err != nil {
		return e, false, fmt.Errorf("start execution: %w", err)
	}
	return e, true, nil
}

// SaveExecutionProgress writes the output so far to a running execution
// and reports whether it is still running: false means it was canceled
// (or finished elsewhere), and the worker should stop.
func (s *Store) SaveExecutionProgress(ctx context.Context, t Tenant, id, output string) (bool, error) {
	res, err := s.DB.ExecContext(ctx, t.SQL(`UPDATE {tenant}.agent_executions SET output = $2, updated_at = now()
		WHERE id = $1 AND status = 'running'`), id, output)
	if err != nil {
		return true, fmt.Errorf("save execution progress: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ExecutionLog is one line of what an execution did.
type ExecutionLog struct {
	At      time.Time `db:"at"`
	Level   string    `db:"level"`
	Message string    `db:"message"`
}

// AddExecutionLogTx records log lines of an execution.
func (s *Store) AddExecutionLogTx(ctx context.Context, q sqlx.ExecerContext, t Tenant, id string, logs []ExecutionLog) error {
	for _, l := range logs {
		msg := l.Message
		if len(msg) > 4000 {
			msg = msg[:3990] + " …"
		}
		if !utf8.ValidString(msg) {
			msg = strings.ToValidUTF8(msg, "?")
		}
		if _, err := q.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.agent_execution_logs (execution_id, at, level, message)
			VALUES ($1, $2, $3, $4)`), id, l.At, l.Level, msg); err != nil {
			return fmt.Errorf("log execution: %w", err)
		}
	}
	return nil
}

// ExecutionLogs returns an execution's log, oldest first.
func (s *Store) ExecutionLogs(ctx context.Context, t Tenant, id string) ([]ExecutionLog, error) {
	var out []ExecutionLog
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT at, level, message FROM {tenant}.agent_execution_logs
		WHERE execution_id = $1 ORDER BY seq LIMIT 500`), id); err != nil {
		return nil, fmt.Errorf("read execution log: %w", err)
	}
	return out, nil
}

// CancelExecution cancels a queued or running execution (its worker sees
// it at its next save and stops). A finished one is ErrConflict.
func (s *Store) CancelExecution(ctx context.Context, t Tenant, id string) (e Execution, err error) {
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		e, err = s.CancelExecutionTx(ctx, tx, t, id)
		return err
	})
	return e, err
}

// CancelExecutionTx is CancelExecution in the caller's transaction.
func (s *Store) CancelExecutionTx(ctx context.Context, tx *sqlx.Tx, t Tenant, id string) (Execution, error) {
	var e Execution
	err := tx.GetContext(ctx, &e, t.SQL(`UPDATE {tenant}.agent_executions SET status = 'canceled', finished_at = now(), updated_at = now()
		WHERE id = $1 AND status IN ('queued', 'running') RETURNING `+executionColumns), id)
	if errors.Is(err, sql.ErrNoRows) {
		if e, err = s.executionTx(ctx, tx, t, id); err != nil {
			return e, err
		}
		return e, fmt.Errorf("the run has %s: %w", e.Status, ErrConflict)
	}
	return e, err
}

// AgentExecutions returns an agent's latest executions, newest first
// (private chat answers aside: they are their owners').
func (s *Store) AgentExecutions(ctx context.Context, t Tenant, agentID string, limit int) ([]Execution, error) {
	var out []Execution
	if !IsUUID(agentID) {
		return nil, ErrNotFound
	}
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+executionColumns+` FROM {tenant}.agent_executions
		WHERE agent_id = $1 AND purpose <> 'chat' ORDER BY queued_at DESC LIMIT $2`), agentID, clampLimit(limit, 200)); err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	return out, nil
}

// RecentExecutions returns the tenant's latest executions of every agent
// (private chat answers aside), newest first.
func (s *Store) RecentExecutions(ctx context.Context, t Tenant, limit int) ([]Execution, error) {
	var out []Execution
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+executionColumns+` FROM {tenant}.agent_executions
		WHERE purpose <> 'chat' ORDER BY queued_at DESC LIMIT $1`), clampLimit(limit, 200)); err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	return out, nil
}

// InlineExecution records the execution a directive runs itself (a
// deploy's test), keyed to that directive: a retry of the directive finds
// the same execution rather than making a second.
func (s *Store) InlineExecution(ctx context.Context, t Tenant, n NewExecution, directiveID string) (Execution, error) {
	var e Execution
	if err := n.check(); err != nil {
		return e, err
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &e, t.SQL(`SELECT `+executionColumns+` FROM {tenant}.agent_executions WHERE directive_id = $1
			ORDER BY queued_at LIMIT 1`), directiveID)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		a, err := agentByID(ctx, tx, t, n.AgentID, false)
		if err != nil {
			return err
		}
		cx, _ := json.Marshal(n.Context)
		return tx.GetContext(ctx, &e, t.SQL(`INSERT INTO {tenant}.agent_executions (agent_id, agent_name, purpose, input,
				cause_type, cause_id, requested_by_user_id, directive_id, context)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+executionColumns),
			a.ID, a.Name, n.Purpose, n.Input, n.Cause.Type, nullIfEmpty(n.Cause.ID),
			sql.NullInt64{Int64: n.UserID, Valid: n.UserID != 0}, directiveID, string(cx))
	})
	return e, err
}
