package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Agent is one of an organization's AI agents.
type Agent struct {
	ID                    string          `db:"id"`
	Name                  string          `db:"name"`
	Description           string          `db:"description"`
	Version               string          `db:"version"`
	State                 string          `db:"state"`
	Config                json.RawMessage `db:"config"`
	SystemPrompt          string          `db:"system_prompt"`
	MaxConcurrentRequests int             `db:"max_concurrent_requests"`
	TimeoutSeconds        int             `db:"timeout_seconds"`
	RequestCount          int64           `db:"request_count"`
	TokenCount            int64           `db:"token_count"`
	PackageSlug           sql.NullString  `db:"package_slug"`
	// Handle names the agent in @mentions: research-assistant.
	Handle              string       `db:"handle"`
	ArchivedAt          sql.NullTime `db:"archived_at"`
	ConsecutiveFailures int          `db:"consecutive_failures"`
	// LastError says why the agent is in error.
	LastError string    `db:"last_error"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// Active reports whether the agent runs: only active agents do, anywhere.
func (a Agent) Active() bool { return a.State == AgentActive && !a.ArchivedAt.Valid }

// Archived reports whether the agent was archived.
func (a Agent) Archived() bool { return a.ArchivedAt.Valid }

// NotRunning is the refusal for an agent that is not active, in words a
// person can act on.
func (a Agent) NotRunning() error {
	switch {
	case a.Archived():
		return Invalid("agent", fmt.Sprintf("%s is archived and no longer runs.", a.Name))
	case a.State == AgentDraft:
		return Invalid("agent", fmt.Sprintf("%s is a draft: deploy it before it can run.", a.Name))
	case a.State == AgentError && a.LastError != "":
		return Invalid("agent", fmt.Sprintf("%s is in error (%s): redeploy it before it can run.", a.Name, a.LastError))
	}
	return Invalid("agent", fmt.Sprintf("%s is %s: only active agents run.", a.Name, a.State))
}

// AgentConfig is the model configuration kept in agents.config.
type AgentConfig struct {
	Model       string  `json:"model"`
	MaxTokens   int     `json:"max_tokens"`
	Temperature float64 `json:"temperature"`
}

// ConfigValues decodes the agent's config for display.
func (a Agent) ConfigValues() AgentConfig {
	var c AgentConfig
	_ = json.Unmarshal(a.Config, &c)
	return c
}

// Agent states (SPEC §5).
const (
	AgentDraft     = "draft"
	AgentDeploying = "deploying"
	AgentActive    = "active"
	AgentPaused    = "paused"
	AgentError     = "error"
)

// AgentStates lists the states in lifecycle order, for pages grouping by state.
var AgentStates = []string{AgentDraft, AgentDeploying, AgentActive, AgentPaused, AgentError}

// agentTransitions is the agent state machine, the only place it is
// written down: action → the states it leaves from → the state it leads to.
var agentTransitions = map[string]struct {
	from []string
	to   string
}{
	"deploy":   {[]string{AgentDraft}, AgentDeploying},
	"activate": {[]string{AgentDeploying}, AgentActive},
	"pause":    {[]string{AgentActive}, AgentPaused},
	"resume":   {[]string{AgentPaused}, AgentActive},
	"error":    {[]string{AgentDeploying, AgentActive}, AgentError},
	"redeploy": {[]string{AgentError}, AgentDeploying},
}

// AgentActions lists every transition action in a stable order.
var AgentActions = []string{"deploy", "activate", "pause", "resume", "error", "redeploy"}

// LegalActions returns the actions an agent in state may take, in
// AgentActions order (the admin pages render them as buttons).
func LegalActions(state string) []string {
	var out []string
	for _, a := range AgentActions {
		if _, ok := nextAgentState(state, a); ok {
			out = append(out, a)
		}
	}
	return out
}

// nextAgentState returns where action leads from state, and whether it is allowed.
func nextAgentState(state, action string) (string, bool) {
	t, ok := agentTransitions[action]
	if !ok {
		return "", false
	}
	for _, f := range t.from {
		if f == state {
			return t.to, true
		}
	}
	return "", false
}

// agentTransitionError explains a refused transition in words a person
// can act on.
func agentTransitionError(state, action string) error {
	if _, ok := agentTransitions[action]; !ok {
		return Invalid("action", fmt.Sprintf("%q is not an agent action; use one of deploy, activate, pause, resume, error, redeploy", action))
	}
	legal := LegalActions(state)
	msg := fmt.Sprintf("cannot %s an agent that is %s", action, state)
	if len(legal) == 0 {
		return Invalid("action", msg)
	}
	return Invalid("action", fmt.Sprintf("%s; from %s it can %s", msg, state, orList(legal)))
}

// orList joins words for a sentence: "pause", "activate or error",
// "deploy, pause or error" (never a Go slice in a message).
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

const agentColumns = `id, name, description, version, state, config, system_prompt, max_concurrent_requests,
	timeout_seconds, request_count, token_count, package_slug, handle, archived_at, consecutive_failures,
	coalesce(last_error, '') AS last_error, created_at, updated_at`

// ListAgents returns the tenant's agents (archived ones aside) in
// lifecycle-state order, then by name.
func (s *Store) ListAgents(ctx context.Context, t Tenant) ([]Agent, error) {
	var agents []Agent
	err := s.DB.SelectContext(ctx, &agents, t.SQL(`SELECT `+agentColumns+` FROM {tenant}.agents WHERE archived_at IS NULL
		ORDER BY array_position(ARRAY['draft','deploying','active','paused','error'], state), lower(name), created_at, id`))
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return agents, nil
}

// AgentByID returns one of the tenant's agents; another tenant's id is not found.
func (s *Store) AgentByID(ctx context.Context, t Tenant, id string) (Agent, error) {
	return agentByID(ctx, s.DB, t, id, false)
}

func agentByID(ctx context.Context, q sqlx.QueryerContext, t Tenant, id string, forUpdate bool) (Agent, error) {
	var a Agent
	if !IsUUID(id) {
		return a, ErrNotFound
	}
	query := `SELECT ` + agentColumns + ` FROM {tenant}.agents WHERE id = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &a, t.SQL(query), id)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	} else if err != nil {
		return a, fmt.Errorf("agent %s: %w", id, err)
	}
	return a, nil
}

// AgentByHandle returns the agent that answers to @handle (archived ones
// do not).
func (s *Store) AgentByHandle(ctx context.Context, q sqlx.QueryerContext, t Tenant, handle string) (Agent, error) {
	var a Agent
	err := sqlx.GetContext(ctx, q, &a, t.SQL(`SELECT `+agentColumns+` FROM {tenant}.agents WHERE handle = $1 AND archived_at IS NULL`), handle)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	} else if err != nil {
		return a, fmt.Errorf("agent @%s: %w", handle, err)
	}
	return a, nil
}

// ArchivedAgents returns the tenant's archived agents, latest first.
func (s *Store) ArchivedAgents(ctx context.Context, t Tenant) ([]Agent, error) {
	var agents []Agent
	if err := s.DB.SelectContext(ctx, &agents, t.SQL(`SELECT `+agentColumns+` FROM {tenant}.agents WHERE archived_at IS NOT NULL
		ORDER BY archived_at DESC LIMIT 100`)); err != nil {
		return nil, fmt.Errorf("list archived agents: %w", err)
	}
	return agents, nil
}

// CountAgents returns how many agents the tenant has (archived ones aside).
func (s *Store) CountAgents(ctx context.Context, t Tenant) (int, error) {
	var n int
	if err := s.DB.GetContext(ctx, &n, t.SQL(`SELECT count(*) FROM {tenant}.agents WHERE archived_at IS NULL`)); err != nil {
		return 0, fmt.Errorf("count agents: %w", err)
	}
	return n, nil
}

// AgentStateCounts returns how many of the tenant's agents are in each state.
func (s *Store) AgentStateCounts(ctx context.Context, t Tenant) (map[string]int, error) {
	rows := []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}{}
	if err := s.DB.SelectContext(ctx, &rows, t.SQL(`SELECT state, count(*) AS n FROM {tenant}.agents WHERE archived_at IS NULL GROUP BY state`)); err != nil {
		return nil, fmt.Errorf("count agents by state: %w", err)
	}
	out := make(map[string]int, len(AgentStates))
	for _, st := range AgentStates {
		out[st] = 0
	}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// TransitionAgent moves an agent through the state machine by action
// (deploy, activate, pause, resume, error, redeploy). An action the
// agent's current state does not allow is a *ValidationError on "action"
// that says which actions are allowed. The change and its
// agent.state.changed signal commit together. The agent row is locked, so
// two concurrent transitions apply one after the other, the second checked
// against the first's result.
func (s *Store) TransitionAgent(ctx context.Context, t Tenant, id, action string, actorUserID int64) (Agent, error) {
	var a Agent
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		a, err = s.TransitionAgentTx(ctx, tx, t, id, action, actorUserID, "")
		return err
	})
	return a, err
}

// TransitionAgentTx is TransitionAgent in the caller's transaction;
// reason, for a move to error, says why (kept on the agent).
func (s *Store) TransitionAgentTx(ctx context.Context, tx *sqlx.Tx, t Tenant, id, action string, actorUserID int64, reason string) (Agent, error) {
	a, err := agentByID(ctx, tx, t, id, true)
	if err != nil {
		return a, err
	}
	if a.Archived() {
		return a, Invalid("action", fmt.Sprintf("%s is archived.", a.Name))
	}
	to, ok := nextAgentState(a.State, action)
	if !ok {
		return a, agentTransitionError(a.State, action)
	}
	from := a.State
	if err := tx.GetContext(ctx, &a, t.SQL(`UPDATE {tenant}.agents SET state = $2, updated_at = now(),
			last_error = CASE WHEN $2 = 'error' THEN nullif($3, '') ELSE NULL END,
			consecutive_failures = CASE WHEN $2 = 'active' THEN 0 ELSE consecutive_failures END
		WHERE id = $1 RETURNING `+agentColumns), id, to, reason); err != nil {
		return a, fmt.Errorf("transition agent %s: %w", id, err)
	}
	err = s.emitAgentStateChanged(ctx, tx, t, a, from, action, actorUserID)
	return a, err
}

// emitAgentStateChanged records the transition as agent.state.changed in tx.
func (s *Store) emitAgentStateChanged(ctx context.Context, tx *sqlx.Tx, t Tenant, a Agent, from, action string, actorUserID int64) error {
	actor := SystemActor("agents")
	if actorUserID > 0 {
		actor = UserActor(actorUserID)
	}
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
		Name: "agent.state.changed",
		Payload: map[string]any{"agent_id": a.ID, "name": a.Name, "handle": a.Handle, "from": from, "to": a.State, "action": action,
			"reason": a.LastError},
		Actor:   actor,
		Subject: Subject{Type: "agent", ID: a.ID},
		Source:  "agents",
	})
	return err
}
