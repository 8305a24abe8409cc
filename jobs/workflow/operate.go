package workflow

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// What an operator does to a run from its page: decide an approval,
// retry from the failed steps, cancel. Each is one transaction holding
// the run's lock, so it is ordered against the steps finishing.

// Decide approves or rejects a waiting approval step.
func (e *Engine) Decide(ctx context.Context, t store.Tenant, runID, stepID string, approve bool, userID int64, who string) error {
	return e.st.Tx(ctx, func(tx *sqlx.Tx) error {
		run, st, err := e.lockStep(ctx, tx, t, runID, stepID)
		if err != nil {
			return err
		}
		if st.Kind != KindApproval || st.Status != store.StepWaiting {
			return store.Invalid("", fmt.Sprintf("Step %q is not waiting for an approval (it is %s).", stepID, st.Status))
		}
		status, output, why := store.StepSucceeded, "approved by "+who, ""
		if !approve {
			status, output, why = store.StepFailed, "", "rejected by "+who
		}
		if _, err := e.st.UpdateStepTx(ctx, tx, t, run.ID, st.StepID, store.StepChange{Status: st.Status, DecidedBy: userID}); err != nil {
			return err
		}
		return e.settle(ctx, tx, t, run, st, status, output, why)
	})
}

func (e *Engine) lockStep(ctx context.Context, tx *sqlx.Tx, t store.Tenant, runID, stepID string) (store.WorkflowRun, store.WorkflowStep, error) {
	run, err := e.st.RunForUpdate(ctx, tx, t, runID)
	if err != nil {
		return run, store.WorkflowStep{}, err
	}
	steps, err := e.st.Steps(ctx, tx, t, run.ID)
	if err != nil {
		return run, store.WorkflowStep{}, err
	}
	for _, s := range steps {
		if s.StepID == stepID {
			return run, s, nil
		}
	}
	return run, store.WorkflowStep{}, store.ErrNotFound
}

// Retry runs a failed run again from its failed steps; the steps that
// succeeded keep their outputs.
func (e *Engine) Retry(ctx context.Context, t store.Tenant, runID string, userID int64) error {
	return e.st.Tx(ctx, func(tx *sqlx.Tx) error {
		run, err := e.st.RunForUpdate(ctx, tx, t, runID)
		if err != nil {
			return err
		}
		if run.Status != store.RunFailed {
			return store.Invalid("", fmt.Sprintf("Only a failed run can be retried; this one is %s.", run.Status))
		}
		steps, err := e.st.Steps(ctx, tx, t, run.ID)
		if err != nil {
			return err
		}
		empty := ""
		for _, s := range steps {
			if s.Status == store.StepFailed {
				if _, err := e.st.UpdateStepTx(ctx, tx, t, run.ID, s.StepID, store.StepChange{Status: store.StepPending, Error: &empty,
					Output: &empty, NewAttempt: true}); err != nil {
					return err
				}
			}
		}
		if run, err = e.st.SetRunStatusTx(ctx, tx, t, run.ID, store.RunRunning, ""); err != nil {
			return err
		}
		if err := e.emitRun(ctx, tx, t, run, "workflow.run.retried", map[string]any{"by_user_id": userID}); err != nil {
			return err
		}
		return e.advance(ctx, tx, t, run.ID)
	})
}

// Cancel stops a run: steps not finished are skipped, and a running
// agent step's execution is canceled with it. It returns the executions
// canceled, so the caller can stop one running in its own process at once.
func (e *Engine) Cancel(ctx context.Context, t store.Tenant, runID string, userID int64) ([]string, error) {
	var canceled []string
	err := e.st.Tx(ctx, func(tx *sqlx.Tx) error {
		run, err := e.st.RunForUpdate(ctx, tx, t, runID)
		if err != nil {
			return err
		}
		if run.Finished() {
			return store.Invalid("", fmt.Sprintf("The run has %s already.", run.Status))
		}
		steps, err := e.st.Steps(ctx, tx, t, run.ID)
		if err != nil {
			return err
		}
		why := "canceled"
		for _, s := range steps {
			if s.Done() {
				continue
			}
			if _, err := e.st.UpdateStepTx(ctx, tx, t, run.ID, s.StepID, store.StepChange{Status: store.StepSkipped, Error: &why}); err != nil {
				return err
			}
			if s.ExecutionID != "" && s.Status == store.StepRunning {
				if _, err := e.st.CancelExecutionTx(ctx, tx, t, s.ExecutionID); err == nil {
					canceled = append(canceled, s.ExecutionID)
				}
			}
		}
		if run, err = e.st.SetRunStatusTx(ctx, tx, t, run.ID, store.RunCanceled, "canceled by a person"); err != nil {
			return err
		}
		return e.emitRun(ctx, tx, t, run, "workflow.run.canceled", map[string]any{"by_user_id": userID})
	})
	return canceled, err
}
