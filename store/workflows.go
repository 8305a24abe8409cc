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

// Workflows (SPEC §13): their rows, enabling under the tier's limit, and
// the lookup the trigger subscriber makes. The definition's rules are the
// workflow engine's (jobs/workflow); the store keeps it as JSON.

// Workflow is one workflow.
type Workflow struct {
	ID            string          `db:"id"`
	Name          string          `db:"name"`
	Description   string          `db:"description"`
	Enabled       bool            `db:"enabled"`
	EnabledAt     sql.NullTime    `db:"enabled_at"`
	Definition    json.RawMessage `db:"definition"`
	TriggerSignal string          `db:"trigger_signal"`
	PackageSlug   sql.NullString  `db:"package_slug"`
	Version       string          `db:"version"`
	OwnerUserID   int64           `db:"owner_user_id"`
	CreatedAt     time.Time       `db:"created_at"`
	UpdatedAt     time.Time       `db:"updated_at"`
}

const workflowColumns = `id, name, description, enabled, enabled_at, definition, trigger_signal, package_slug, version,
	coalesce(owner_user_id, 0) AS owner_user_id, created_at, updated_at`

// WorkflowSpec is a workflow to save: the definition already checked by
// the engine (as JSON, with its trigger's signal).
type WorkflowSpec struct {
	Name, Description string
	Definition        string
	TriggerSignal     string
}

func (w *WorkflowSpec) check() error {
	w.Name, w.Description = strings.TrimSpace(w.Name), strings.TrimSpace(w.Description)
	v := &ValidationError{}
	switch n := utf8.RuneCountInString(w.Name); {
	case n == 0:
		v.Add("name", "can't be blank")
	case n > 120:
		v.Add("name", "must be at most 120 characters")
	}
	if utf8.RuneCountInString(w.Description) > 500 {
		v.Add("description", "must be at most 500 characters")
	}
	return v.OrNil()
}

func workflowConflict(err error) error {
	if c, ok := uniqueViolation(err); ok && c == "workflows_name_key" {
		return Invalid("name", "another workflow of this organization has this name")
	}
	return err
}

// CreateWorkflow saves a new (disabled) workflow with workflow.created.
func (s *Store) CreateWorkflow(ctx context.Context, t Tenant, w WorkflowSpec, userID int64) (Workflow, error) {
	var out Workflow
	if err := w.check(); err != nil {
		return out, err
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &out, t.SQL(`INSERT INTO {tenant}.workflows (name, description, definition, trigger_signal, owner_user_id)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+workflowColumns), w.Name, w.Description, w.Definition, w.TriggerSignal, nullUser(userID))
		if err != nil {
			return workflowConflict(fmt.Errorf("create workflow: %w", err))
		}
		return s.emitWorkflow(ctx, tx, t, "workflow.created", out, userID)
	})
	return out, err
}

// UpdateWorkflow saves a new version of a workflow (runs under way keep
// the definition they started with).
func (s *Store) UpdateWorkflow(ctx context.Context, t Tenant, id string, w WorkflowSpec, userID int64) (Workflow, error) {
	var out Workflow
	if err := w.check(); err != nil {
		return out, err
	}
	if !IsUUID(id) {
		return out, ErrNotFound
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &out, t.SQL(`UPDATE {tenant}.workflows SET name = $2, description = $3, definition = $4,
			trigger_signal = $5, updated_at = now() WHERE id = $1 RETURNING `+workflowColumns), id, w.Name, w.Description, w.Definition, w.TriggerSignal)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return workflowConflict(fmt.Errorf("update workflow: %w", err))
		}
		return s.emitWorkflow(ctx, tx, t, "workflow.updated", out, userID)
	})
	return out, err
}

// workflowLockClass serialises enabling per tenant: the limit is a count.
const workflowLockClass = 0x46500007

// SetWorkflowEnabled enables or disables a workflow. Enabling one more
// than the tier allows is refused with a message saying so.
func (s *Store) SetWorkflowEnabled(ctx context.Context, t Tenant, id string, enabled bool, userID int64) (Workflow, error) {
	var out Workflow
	if !IsUUID(id) {
		return out, ErrNotFound
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, workflowLockClass, t.Schema()); err != nil {
			return err
		}
		cur, err := workflowTx(ctx, tx, t, id)
		if err != nil || cur.Enabled == enabled {
			out = cur
			return err
		}
		if enabled {
			if err := workflowRoom(ctx, tx, t); err != nil {
				return err
			}
		}
		if err := tx.GetContext(ctx, &out, t.SQL(`UPDATE {tenant}.workflows SET enabled = $2,
			enabled_at = CASE WHEN $2 THEN now() END, updated_at = now()
			WHERE id = $1 RETURNING `+workflowColumns), id, enabled); err != nil {
			return fmt.Errorf("enable workflow: %w", err)
		}
		name := "workflow.disabled"
		if enabled {
			name = "workflow.enabled"
		}
		return s.emitWorkflow(ctx, tx, t, name, out, userID)
	})
	return out, err
}

// workflowRoom refuses when the tier's enabled workflows are all taken.
func workflowRoom(ctx context.Context, tx *sqlx.Tx, t Tenant) error {
	var n, limit int
	var tier string
	if err := tx.QueryRowxContext(ctx, t.SQL(`SELECT (SELECT count(*) FROM {tenant}.workflows WHERE enabled),
		o.workflow_limit, o.tier FROM organizations o WHERE o.id = $1`), t.OrgID).Scan(&n, &limit, &tier); err != nil {
		return fmt.Errorf("count workflows: %w", err)
	}
	if n >= limit {
		if limit == 0 {
			return Invalid("", fmt.Sprintf("The %s plan includes no workflows: upgrade to run them.", tier))
		}
		return Invalid("", fmt.Sprintf("The %s plan allows %d enabled workflows, and %d are enabled: disable one first, or upgrade.", tier, limit, n))
	}
	return nil
}

func workflowTx(ctx context.Context, q sqlx.QueryerContext, t Tenant, id string) (Workflow, error) {
	var w Workflow
	if !IsUUID(id) {
		return w, ErrNotFound
	}
	err := sqlx.GetContext(ctx, q, &w, t.SQL(`SELECT `+workflowColumns+` FROM {tenant}.workflows WHERE id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return w, ErrNotFound
	} else if err != nil {
		return w, fmt.Errorf("workflow %s: %w", id, err)
	}
	return w, nil
}

// Workflow returns one workflow of the tenant.
func (s *Store) Workflow(ctx context.Context, t Tenant, id string) (Workflow, error) {
	return workflowTx(ctx, s.DB, t, id)
}

// Workflows lists the tenant's workflows by name.
func (s *Store) Workflows(ctx context.Context, t Tenant) ([]Workflow, error) {
	var out []Workflow
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+workflowColumns+` FROM {tenant}.workflows ORDER BY lower(name)`)); err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	return out, nil
}

// EnabledWorkflowsFor returns the enabled workflows triggered by any of
// names.
func (s *Store) EnabledWorkflowsFor(ctx context.Context, q sqlx.QueryerContext, t Tenant, names []string) ([]Workflow, error) {
	var out []Workflow
	if err := sqlx.SelectContext(ctx, q, &out, t.SQL(`SELECT `+workflowColumns+` FROM {tenant}.workflows
		WHERE enabled AND trigger_signal = ANY($1) ORDER BY created_at, id`), pq.Array(names)); err != nil {
		return nil, fmt.Errorf("find triggered workflows: %w", err)
	}
	return out, nil
}

func (s *Store) emitWorkflow(ctx context.Context, tx *sqlx.Tx, t Tenant, name string, w Workflow, userID int64) error {
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{Name: name, Actor: actorFor(userID), Source: "workflows",
		Subject: Subject{Type: SubjectWorkflow, ID: w.ID},
		Payload: map[string]any{"workflow_id": w.ID, "name": w.Name, "enabled": w.Enabled, "trigger": w.TriggerSignal}})
	return err
}

// Subject types of workflow signals.
const (
	SubjectWorkflow    = "workflow"
	SubjectWorkflowRun = "workflow_run"
)

// WorkflowAllowance is how many workflows the tier lets the organization
// enable, and how many are.
type WorkflowAllowance struct {
	Tier    string `db:"tier"`
	Limit   int    `db:"workflow_limit"`
	Enabled int    `db:"enabled"`
}

// Full reports whether enabling one more would be refused.
func (a WorkflowAllowance) Full() bool { return a.Enabled >= a.Limit }

// WorkflowAllowanceOf reads the tenant's allowance.
func (s *Store) WorkflowAllowanceOf(ctx context.Context, t Tenant) (WorkflowAllowance, error) {
	var a WorkflowAllowance
	err := s.DB.GetContext(ctx, &a, t.SQL(`SELECT o.tier, o.workflow_limit,
		(SELECT count(*) FROM {tenant}.workflows WHERE enabled) AS enabled FROM organizations o WHERE o.id = $1`), t.OrgID)
	if err != nil {
		return a, fmt.Errorf("workflow allowance: %w", err)
	}
	return a, nil
}
