package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// advance moves a run on after one of its steps changed, in tx: a failed
// step fails the run (its dependents wait, so a retry can resume from
// it); every step done succeeds it; otherwise the pending steps whose
// needs are met get their jobs, and the run is waiting when all that is
// left waits for a person or a time.
func (e *Engine) advance(ctx context.Context, tx *sqlx.Tx, t store.Tenant, runID string) error {
	run, err := e.st.RunForUpdate(ctx, tx, t, runID)
	if err != nil || run.Finished() {
		return err
	}
	steps, err := e.st.Steps(ctx, tx, t, run.ID)
	if err != nil {
		return err
	}
	def, err := runDefinition(run)
	if err != nil {
		return err
	}
	state := map[string]string{}
	for _, s := range steps {
		state[s.StepID] = s.Status
	}
	var failed, active, waiting int
	var ready []store.WorkflowStep
	for _, s := range steps {
		switch s.Status {
		case store.StepFailed:
			failed++
		case store.StepRunning:
			active++
		case store.StepWaiting:
			waiting++
		case store.StepPending:
			st, _ := def.Step(s.StepID)
			if needsMet(st, state) {
				ready = append(ready, s)
			}
		}
	}
	switch {
	case failed > 0 && active == 0 && waiting == 0:
		return e.finishRun(ctx, tx, t, run, store.RunFailed, "a step failed: retry the run to go on from it")
	case failed == 0 && active == 0 && waiting == 0 && len(ready) == 0 && allDone(steps):
		return e.finishRun(ctx, tx, t, run, store.RunSucceeded, "")
	}
	if failed == 0 {
		for _, s := range ready {
			if err := enqueueStep(ctx, tx, t, run.ID, s, time.Time{}); err != nil {
				return err
			}
		}
	}
	status := store.RunRunning
	if waiting > 0 && active == 0 && len(ready) == 0 {
		status = store.RunWaiting
	}
	if status != run.Status {
		_, err = e.st.SetRunStatusTx(ctx, tx, t, run.ID, status, "")
	}
	return err
}

func needsMet(st Step, state map[string]string) bool {
	for _, n := range st.Needs {
		if s := state[n]; s != store.StepSucceeded && s != store.StepSkipped {
			return false
		}
	}
	return true
}

func allDone(steps []store.WorkflowStep) bool {
	for _, s := range steps {
		if !s.Done() {
			return false
		}
	}
	return true
}

func (e *Engine) finishRun(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, status, errText string) error {
	run, err := e.st.SetRunStatusTx(ctx, tx, t, run.ID, status, errText)
	if err != nil {
		return err
	}
	return e.emitRun(ctx, tx, t, run, "workflow.run."+status, nil)
}

// StepArgs are a StepJob's arguments.
type StepArgs struct {
	RunID  string `json:"run_id"`
	StepID string `json:"step_id"`
}

// enqueueStep queues a step's job in tx (at a time, for waits): one live
// job per step and attempt.
func enqueueStep(ctx context.Context, tx *sqlx.Tx, t store.Tenant, runID string, s store.WorkflowStep, at time.Time) error {
	_, _, err := jobs.Enqueue(ctx, tx, jobs.Params{Kind: StepJob, Tenant: t.Schema(), Args: StepArgs{RunID: runID, StepID: s.StepID},
		ScheduledAt: at, MaxAttempts: 10, UniqueKey: fmt.Sprintf("wfstep:%s:%s:%s:%d:%d", t.Schema(), runID, s.StepID, s.Attempt, at.Unix())})
	return err
}

func (e *Engine) emitRun(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, name string, extra map[string]any) error {
	payload := map[string]any{"run_id": run.ID, "workflow_id": run.WorkflowID, "workflow_name": run.WorkflowName,
		"status": run.Status, "trigger_seq": run.TriggerSeq, "depth": run.Depth}
	for k, v := range extra {
		payload[k] = v
	}
	_, _, err := e.st.EmitSignal(ctx, tx, t, store.NewSignal{Name: name, Payload: payload, Actor: store.SystemActor("workflows"),
		Subject: store.Subject{Type: store.SubjectWorkflowRun, ID: run.ID}, Source: "workflows",
		CorrelationID: run.ID, CausationID: run.ID})
	return err
}

// emitStep records a step's move: workflow.step.started when it begins
// running, else workflow.step.<status>.
func (e *Engine) emitStep(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, st store.WorkflowStep) error {
	name := "workflow.step." + st.Status
	if st.Status == store.StepRunning {
		name = "workflow.step.started"
	}
	return e.emitRun(ctx, tx, t, run, name, map[string]any{"step_id": st.StepID, "kind": st.Kind,
		"step_status": st.Status, "error": st.Error, "step_execution": st.ExecutionID})
}
