package main

import (
	"context"
	"fmt"
	"strings"
)

// stuckRuns describes the runs that have not ended: each step's state
// and what it made (execution, directive), and every job that carries the
// run's steps or its directives, so a run left behind by a kill can be
// traced to the piece that stopped.
func stuckRuns(ctx context.Context, r *rig) string {
	var rows []struct {
		Run     string `db:"run"`
		Status  string `db:"status"`
		Step    string `db:"step"`
		SStatus string `db:"sstatus"`
		Attempt int    `db:"attempt"`
		Exec    string `db:"exec"`
		Dir     string `db:"dir"`
		Jobs    string `db:"jobs"`
	}
	err := r.st.DB.SelectContext(ctx, &rows, r.tn.SQL(`SELECT wr.id AS run, wr.status, ws.step_id AS step, ws.status AS sstatus, ws.attempt,
		coalesce((SELECT e.status || ' attempt ' || e.attempt FROM {tenant}.agent_executions e WHERE e.id = ws.execution_id), '') AS exec,
		coalesce((SELECT d.name || ' ' || d.status || ' attempt ' || d.attempt FROM {tenant}.directives d
			WHERE d.id = coalesce(ws.directive_id, (SELECT e.directive_id FROM {tenant}.agent_executions e WHERE e.id = ws.execution_id))), '') AS dir,
		coalesce((SELECT string_agg(j.kind || ' #' || j.id || ' ' || j.state || ' attempt ' || j.attempt || '/' || j.max_attempts
			|| ' by ' || coalesce(j.attempted_by, '-') || ' at ' || coalesce(j.attempted_at::text, '-') || ' scheduled ' || j.scheduled_at::text
			|| coalesce(' last error: ' || j.last_error, ''), '; ' ORDER BY j.id)
			FROM jobs j WHERE j.tenant_schema = $2 AND (j.args->>'run_id' = wr.id::text AND j.args->>'step_id' = ws.step_id
				OR j.args->>'id' IN (ws.directive_id::text, (SELECT e.directive_id::text FROM {tenant}.agent_executions e WHERE e.id = ws.execution_id)))), '') AS jobs
		FROM {tenant}.workflow_runs wr JOIN {tenant}.workflow_steps ws ON ws.run_id = wr.id
		WHERE wr.workflow_id = $1 AND wr.status NOT IN ('succeeded', 'failed', 'canceled') ORDER BY wr.id, ws.position`), r.wfID, r.tn.Schema())
	if err != nil {
		return "(reading the stuck runs: " + err.Error() + ")"
	}
	var b strings.Builder
	for _, x := range rows {
		fmt.Fprintf(&b, "\n  run %s %s · step %s %s (attempt %d) · execution %s · directive %s\n    jobs: %s",
			x.Run, x.Status, x.Step, x.SStatus, x.Attempt, x.Exec, x.Dir, x.Jobs)
	}
	return b.String()
}
