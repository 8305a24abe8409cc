package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Managing agents (SPEC §12): owners and admins create and edit them;
// names and handles are unique per organization (archived agents aside).
// Hand-made agents start as drafts; deploy tests them and activates them.

var (
	agentHandle = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	modelName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$`)
)

// AgentForm is the agent form as submitted (every field text).
type AgentForm struct {
	Name, Description, SystemPrompt string
	Model, Temperature, MaxTokens   string
	// Handle is optional: empty derives it from the name.
	Handle string
}

// agentSpec is a checked AgentForm.
type agentSpec struct {
	name, description, prompt, handle string
	config                            AgentConfig
}

// DefaultAgentConfig is a new agent's model configuration.
var DefaultAgentConfig = AgentConfig{Model: "claude-sonnet-4", MaxTokens: 4096, Temperature: 0.7}

// check validates the form, one message per field.
func (f AgentForm) check() (agentSpec, error) {
	v := &ValidationError{}
	sp := agentSpec{name: strings.TrimSpace(f.Name), description: strings.TrimSpace(f.Description),
		prompt: strings.TrimSpace(strings.ReplaceAll(f.SystemPrompt, "\r\n", "\n")), handle: strings.TrimSpace(f.Handle), config: DefaultAgentConfig}
	switch n := utf8.RuneCountInString(sp.name); {
	case n == 0:
		v.Add("name", "can't be blank")
	case n > 120:
		v.Add("name", "must be at most 120 characters")
	}
	if utf8.RuneCountInString(sp.description) > 500 {
		v.Add("description", "must be at most 500 characters")
	}
	if utf8.RuneCountInString(sp.prompt) > 20000 {
		v.Add("system_prompt", "must be at most 20,000 characters")
	}
	if sp.handle != "" && (!agentHandle.MatchString(sp.handle) || len(sp.handle) > 60) {
		v.Add("handle", "use lowercase letters, digits and single hyphens (research-assistant), at most 60 characters")
	}
	if m := strings.TrimSpace(f.Model); m != "" {
		if !modelName.MatchString(m) {
			v.Add("model", "is not a model name (letters, digits and . _ : / @ + -)")
		}
		sp.config.Model = m
	}
	if s := strings.TrimSpace(f.Temperature); s != "" {
		t, err := strconv.ParseFloat(s, 64)
		if err != nil || t < 0 || t > 2 {
			v.Add("temperature", "must be a number from 0 to 2")
		}
		sp.config.Temperature = t
	}
	if s := strings.TrimSpace(f.MaxTokens); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200000 {
			v.Add("max_tokens", "must be a whole number from 1 to 200,000")
		}
		sp.config.MaxTokens = n
	}
	return sp, v.OrNil()
}

// Check validates the form without saving it (inline validation).
func (f AgentForm) Check() error {
	_, err := f.check()
	return err
}

// nameTaken refuses a name or handle another live agent has.
func nameTaken(ctx context.Context, q sqlx.QueryerContext, t Tenant, sp agentSpec, except string) error {
	var taken struct {
		Name   bool `db:"name"`
		Handle bool `db:"handle"`
	}
	err := sqlx.GetContext(ctx, q, &taken, t.SQL(`SELECT
		EXISTS (SELECT 1 FROM {tenant}.agents WHERE lower(name) = lower($1) AND archived_at IS NULL AND id::text <> $3) AS name,
		EXISTS (SELECT 1 FROM {tenant}.agents WHERE handle = $2 AND archived_at IS NULL AND id::text <> $3) AS handle`),
		sp.name, sp.handle, except)
	if err != nil {
		return fmt.Errorf("check agent name: %w", err)
	}
	v := &ValidationError{}
	if taken.Name {
		v.Add("name", "another agent of this organization has this name")
	}
	if taken.Handle {
		v.Add("handle", "another agent of this organization has this handle")
	}
	return v.OrNil()
}

// agentConflict turns a unique violation (a concurrent save won) into the
// same message as nameTaken.
func agentConflict(err error) error {
	switch c, _ := uniqueViolation(err); c {
	case "agents_name_key":
		return Invalid("name", "another agent of this organization has this name")
	case "agents_handle_key":
		return Invalid("handle", "another agent of this organization has this handle")
	}
	return err
}

// mergeInvalid joins two refusals (the form's, the names'), so a form
// comes back with every message at once.
func mergeInvalid(a, b error) error {
	var va, vb *ValidationError
	if !errors.As(a, &va) {
		return firstErr(a, b)
	}
	if errors.As(b, &vb) {
		for k, m := range vb.Fields {
			va.Add(k, m)
		}
		return va
	}
	return firstErr(b, a)
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// CreateAgent makes a draft agent with agent.created.
func (s *Store) CreateAgent(ctx context.Context, t Tenant, f AgentForm, userID int64) (Agent, error) {
	sp, formErr := f.check()
	var a Agent
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := mergeInvalid(formErr, nameTaken(ctx, tx, t, sp, "")); err != nil {
			return err
		}
		cfg, _ := json.Marshal(sp.config)
		err := tx.GetContext(ctx, &a, t.SQL(`INSERT INTO {tenant}.agents (name, description, system_prompt, config, handle)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+agentColumns), sp.name, sp.description, sp.prompt, cfg, nullIfEmpty(sp.handle))
		if err != nil {
			return agentConflict(fmt.Errorf("create agent: %w", err))
		}
		return s.emitAgent(ctx, tx, t, "agent.created", a, userID, nil)
	})
	return a, err
}

// UpdateAgent saves the form over an agent, with agent.updated naming
// what changed. An empty handle keeps the agent's.
func (s *Store) UpdateAgent(ctx context.Context, t Tenant, id string, f AgentForm, userID int64) (Agent, error) {
	sp, formErr := f.check()
	var a Agent
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := agentByID(ctx, tx, t, id, true)
		if err != nil {
			return err
		}
		if cur.Archived() {
			return Invalid("", fmt.Sprintf("%s is archived: it can no longer be edited.", cur.Name))
		}
		if sp.handle == "" {
			sp.handle = cur.Handle
		}
		if err := mergeInvalid(formErr, nameTaken(ctx, tx, t, sp, cur.ID)); err != nil {
			return err
		}
		cfg, _ := json.Marshal(sp.config)
		err = tx.GetContext(ctx, &a, t.SQL(`UPDATE {tenant}.agents SET name = $2, description = $3, system_prompt = $4,
			config = $5, handle = $6, updated_at = now() WHERE id = $1 RETURNING `+agentColumns),
			cur.ID, sp.name, sp.description, sp.prompt, cfg, sp.handle)
		if err != nil {
			return agentConflict(fmt.Errorf("update agent: %w", err))
		}
		return s.emitAgent(ctx, tx, t, "agent.updated", a, userID, map[string]any{"changed": changedFields(cur, a)})
	})
	return a, err
}

func changedFields(a, b Agent) []string {
	var out []string
	for _, f := range []struct {
		name   string
		before string
		after  string
	}{{"name", a.Name, b.Name}, {"description", a.Description, b.Description}, {"system_prompt", a.SystemPrompt, b.SystemPrompt},
		{"config", string(a.Config), string(b.Config)}, {"handle", a.Handle, b.Handle}} {
		if f.before != f.after {
			out = append(out, f.name)
		}
	}
	return out
}

// ArchiveAgent retires an agent: it stops running, leaves the lists, and
// frees its name and handle; its executions stay. Archiving twice is
// harmless.
func (s *Store) ArchiveAgent(ctx context.Context, t Tenant, id string, userID int64) (Agent, error) {
	var a Agent
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := agentByID(ctx, tx, t, id, true)
		if err != nil || cur.Archived() {
			a = cur
			return err
		}
		if err := tx.GetContext(ctx, &a, t.SQL(`UPDATE {tenant}.agents SET archived_at = now(), updated_at = now()
			WHERE id = $1 RETURNING `+agentColumns), cur.ID); err != nil {
			return fmt.Errorf("archive agent: %w", err)
		}
		return s.emitAgent(ctx, tx, t, "agent.archived", a, userID, nil)
	})
	return a, err
}

func (s *Store) emitAgent(ctx context.Context, tx *sqlx.Tx, t Tenant, name string, a Agent, userID int64, extra map[string]any) error {
	payload := map[string]any{"agent_id": a.ID, "name": a.Name, "handle": a.Handle, "state": a.State}
	for k, v := range extra {
		payload[k] = v
	}
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{Name: name, Payload: payload, Actor: actorFor(userID),
		Subject: Subject{Type: "agent", ID: a.ID}, Source: "agents"})
	return err
}

// DeployArgs is agent.deploy's payload.
type DeployArgs struct {
	AgentID string `json:"agent_id"`
}

// ChangeAgentState applies a transition. deploy and redeploy move the
// agent to deploying and request agent.deploy in the same transaction,
// which tests the agent and activates it (or moves it to error); the
// other actions apply at once. key is the form's idempotency key.
func (s *Store) ChangeAgentState(ctx context.Context, t Tenant, id, action string, userID int64, key string) (Agent, *Directive, error) {
	var a Agent
	var dir *Directive
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if a, err = s.TransitionAgentTx(ctx, tx, t, id, action, userID, ""); err != nil {
			return err
		}
		if action != "deploy" && action != "redeploy" {
			return nil
		}
		d, _, err := s.RequestDirectiveTx(ctx, tx, t, DirectiveRequest{Kind: DirectiveAgentDeploy, Payload: DeployArgs{AgentID: a.ID},
			IdempotencyKey: key, UserID: userID, Subject: Subject{Type: "agent", ID: a.ID}, MaxAttempts: 2})
		dir = &d
		return err
	})
	return a, dir, err
}
