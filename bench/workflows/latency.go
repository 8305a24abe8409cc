package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lib/pq"

	"fleetprompt/store"
)

// startSample is one run's start, each figure measured from the commit of
// the forum.thread.created signal that triggered it.
type startSample struct {
	// requested is to the commit of the trigger subscriber's delivery that
	// requested workflow.run.start (its directive.requested signal): the
	// first hop, before a job runner picks the directive up.
	requested time.Duration
	// run is to the run's started_at (the start of the workflow.run.start
	// directive's transaction that made it), runCommitted to the commit
	// of that transaction (its workflow.run.started signal).
	run, runCommitted time.Duration
	// step is to the first step's started_at (the start of the step
	// job's transaction that set it running and requested its
	// execution), stepCommitted to that transaction's commit.
	step, stepCommitted time.Duration
}

// startRow is what the database says of one run's start.
type startRow struct {
	Thread        string       `db:"thread"`
	Trigger       sql.NullTime `db:"trigger_committed"`
	Requested     sql.NullTime `db:"requested_committed"`
	RunStarted    time.Time    `db:"run_started"`
	RunCommitted  sql.NullTime `db:"run_committed"`
	StepStarted   time.Time    `db:"step_started"`
	StepCommitted sql.NullTime `db:"step_committed"`
}

// startSQL reads the runs of threads $2: commit times (xmin's commit
// timestamp: signals are never updated) when the server tracks them.
func startSQL(commitTimes bool) string {
	commit := func(alias string) string {
		if commitTimes {
			return "pg_xact_commit_timestamp(" + alias + ".xmin)"
		}
		return "NULL::timestamptz"
	}
	return `SELECT sig.payload->>'thread_id' AS thread, ` + commit("sig") + ` AS trigger_committed, ` + commit("dr") + ` AS requested_committed,
		wr.started_at AS run_started, ` + commit("rs") + ` AS run_committed,
		ws.started_at AS step_started, ` + commit("ss") + ` AS step_committed
		FROM {tenant}.workflow_runs wr
		JOIN {tenant}.signals sig ON sig.id = wr.trigger_id
		JOIN {tenant}.signals dr ON dr.correlation_id = wr.directive_id AND dr.name = 'directive.requested'
		JOIN {tenant}.signals rs ON rs.subject_type = $3 AND rs.subject_id = wr.id::text AND rs.name = 'workflow.run.started'
		JOIN {tenant}.workflow_steps ws ON ws.run_id = wr.id AND ws.step_id = 'draft'
		JOIN {tenant}.signals ss ON ss.subject_type = $3 AND ss.subject_id = wr.id::text AND ss.name = 'workflow.step.started'
			AND ss.payload->>'step_id' = 'draft'
		WHERE wr.workflow_id = $1 AND sig.payload->>'thread_id' = ANY($2)`
}

// measureStarts opens n threads, one every every (a steady trickle: each
// sample is a signal arriving while the platform is not backed up), waits
// for their runs to end, and reads when each run and its first step
// started. Without commit timestamps a trigger's commit is when
// CreateForumThread returned to the bench.
func measureStarts(ctx context.Context, r *rig, d *benchDB, n int, every time.Duration) ([]startSample, cpuUse, error) {
	before := sampleCPU(r, d)
	clocked := map[string]time.Time{}
	var ids []string
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		id, at, err := r.thread(ctx, fmt.Sprintf("Latency question %d", i+1))
		if err != nil {
			return nil, cpuUse{}, err
		}
		clocked[id] = at
		ids = append(ids, id)
	}
	if err := r.settle(ctx, 5*time.Minute); err != nil {
		return nil, cpuUse{}, err
	}
	use := sampleCPU(r, d).minus(before)
	var rows []startRow
	if err := r.st.DB.SelectContext(ctx, &rows, r.tn.SQL(startSQL(d.commitTimes)), r.wfID, pq.Array(ids), store.SubjectWorkflowRun); err != nil {
		return nil, use, err
	}
	if len(rows) != n {
		return nil, use, fmt.Errorf("%d of %d threads have a started run with a running first step", len(rows), n)
	}
	out := make([]startSample, 0, n)
	for _, x := range rows {
		t0 := clocked[x.Thread]
		if x.Trigger.Valid {
			t0 = x.Trigger.Time
		}
		s := startSample{run: x.RunStarted.Sub(t0), step: x.StepStarted.Sub(t0)}
		if x.RunCommitted.Valid && x.StepCommitted.Valid && x.Requested.Valid {
			s.requested = x.Requested.Time.Sub(t0)
			s.runCommitted, s.stepCommitted = x.RunCommitted.Time.Sub(t0), x.StepCommitted.Time.Sub(t0)
		}
		out = append(out, s)
	}
	return out, use, nil
}
