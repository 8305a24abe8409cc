package store

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Packages ship workflows (SPEC §13): installing creates them, enabled
// while the tier's limit allows and disabled (with a notice) past it;
// uninstalling removes them and keeps their runs.

var handleRuns = regexp.MustCompile(`[^a-z0-9]+`)

// baseHandle is the handle a name gives before any number is added
// (migration tenant/0006's agent_handle trigger does the same).
func baseHandle(name string) string {
	h := strings.Trim(handleRuns.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(h) > 50 {
		h = strings.Trim(h[:50], "-")
	}
	if h == "" {
		return "agent"
	}
	return h
}

// installWorkflowsTx creates the package's workflows in tx. A definition
// names the package's agents by the handles their names give; they are
// rewritten to the handles the agents have here (a name taken by another
// agent gave the package's a different one).
func installWorkflowsTx(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive, p Package, inc PackageIncludes) (created, disabled int, err error) {
	if len(inc.Workflows) == 0 {
		return 0, 0, nil
	}
	handles, err := packageHandles(ctx, tx, t, p, inc)
	if err != nil {
		return 0, 0, err
	}
	var room int
	if err := tx.QueryRowxContext(ctx, t.SQL(`SELECT o.workflow_limit - (SELECT count(*) FROM {tenant}.workflows WHERE enabled)
		FROM organizations o WHERE o.id = $1`), t.OrgID).Scan(&room); err != nil {
		return 0, 0, fmt.Errorf("count workflows: %w", err)
	}
	for _, w := range inc.Workflows {
		if len(w.Definition) == 0 {
			continue
		}
		def, trigger, err := rewriteHandles(w.Definition, handles)
		if err != nil {
			return created, disabled, fmt.Errorf("workflow %s: %w", w.Name, err)
		}
		enabled := room > 0
		var id string
		err = tx.GetContext(ctx, &id, t.SQL(`INSERT INTO {tenant}.workflows (name, description, enabled, enabled_at, definition, trigger_signal,
				package_slug, version, owner_user_id)
			VALUES (CASE WHEN EXISTS (SELECT 1 FROM {tenant}.workflows WHERE lower(name) = lower($1)) THEN $1 || ' (' || $8 || ')' ELSE $1 END,
				$2, $3, CASE WHEN $3 THEN now() END, $4, $5, $6, $7, $9)
			RETURNING id`), w.Name, w.Description, enabled, def, trigger, p.Slug, p.Version, p.Name, nullUser(d.RequestedByUserID))
		if err != nil {
			return created, disabled, fmt.Errorf("create workflow %s: %w", w.Name, err)
		}
		created++
		if enabled {
			room--
		} else {
			disabled++
		}
	}
	return created, disabled, nil
}

// packageHandles maps the handle each package agent's name gives to the
// handle that agent has here.
func packageHandles(ctx context.Context, tx *sqlx.Tx, t Tenant, p Package, inc PackageIncludes) (map[string]string, error) {
	rows := []struct {
		Name   string `db:"name"`
		Handle string `db:"handle"`
	}{}
	if err := tx.SelectContext(ctx, &rows, t.SQL(`SELECT name, handle FROM {tenant}.agents WHERE package_slug = $1 AND archived_at IS NULL`), p.Slug); err != nil {
		return nil, fmt.Errorf("read package agents: %w", err)
	}
	out := map[string]string{}
	for _, a := range inc.Agents {
		for _, r := range rows {
			if r.Name == a.Name || r.Name == a.Name+" ("+p.Name+")" {
				out[baseHandle(a.Name)] = r.Handle
			}
		}
	}
	return out, nil
}

// rewriteHandles replaces agent handles in a definition's steps (agent,
// payload.as_agent) and returns it with its trigger's signal.
func rewriteHandles(raw json.RawMessage, handles map[string]string) (string, string, error) {
	var def map[string]any
	if err := json.Unmarshal(raw, &def); err != nil {
		return "", "", err
	}
	trig, _ := def["trigger"].(map[string]any)
	signal, _ := trig["signal"].(string)
	steps, _ := def["steps"].([]any)
	swap := func(m map[string]any, k string) {
		if h, ok := m[k].(string); ok && handles[h] != "" {
			m[k] = handles[h]
		}
	}
	for _, st := range steps {
		m, ok := st.(map[string]any)
		if !ok {
			continue
		}
		swap(m, "agent")
		if pl, ok := m["payload"].(map[string]any); ok {
			swap(pl, "as_agent")
		}
	}
	b, err := json.Marshal(def)
	return string(b), signal, err
}

// removeWorkflowsTx deletes the package's workflows; their runs stay.
func removeWorkflowsTx(ctx context.Context, tx *sqlx.Tx, t Tenant, slug string) ([]string, error) {
	var names []string
	if err := tx.SelectContext(ctx, &names, t.SQL(`DELETE FROM {tenant}.workflows WHERE package_slug = $1 RETURNING name`), slug); err != nil {
		return nil, fmt.Errorf("remove workflows: %w", err)
	}
	return names, nil
}

// PackageWorkflowsOff counts the package's workflows that are off here
// (installed past the tier's limit, or turned off since).
func (s *Store) PackageWorkflowsOff(ctx context.Context, t Tenant, slug string) (int, error) {
	var n int
	if err := s.DB.GetContext(ctx, &n, t.SQL(`SELECT count(*) FROM {tenant}.workflows WHERE package_slug = $1 AND NOT enabled`), slug); err != nil {
		return 0, fmt.Errorf("package workflows: %w", err)
	}
	return n, nil
}
