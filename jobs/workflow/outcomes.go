package workflow

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// executionSettled is the agent purpose's FinishFunc: an agent step ends
// with its execution, in the transaction that records the execution.
func (e *Engine) executionSettled(ctx context.Context, tx *sqlx.Tx, t store.Tenant, ex store.Execution) error {
	st, err := e.st.StepByExecution(ctx, tx, t, ex.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	run, err := e.st.RunForUpdate(ctx, tx, t, st.RunID)
	if err != nil || run.Finished() {
		return err
	}
	if st, err = e.st.StepByExecution(ctx, tx, t, ex.ID); err != nil || st.Status != store.StepRunning {
		return err // settled before (the run's lock makes this exact)
	}
	if ex.Status == store.ExecSucceeded {
		return e.settle(ctx, tx, t, run, st, store.StepSucceeded, ex.Output, "")
	}
	why := ex.Error
	if why == "" {
		why = "the agent's run was " + ex.Status
	}
	return e.settle(ctx, tx, t, run, st, store.StepFailed, ex.Output, why)
}

// directiveSettled is the subscriber of directive outcomes: a directive
// step ends with its directive, in the delivery's transaction (so with
// the subscriber's cursor: once).
func (e *Engine) directiveSettled(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) error {
	for _, sig := range d.Signals {
		var p struct {
			ID string `json:"directive_id"`
		}
		json.Unmarshal(sig.Payload, &p)
		st, err := e.st.StepByDirective(ctx, tx, d.Tenant, p.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := e.directiveStepDone(ctx, tx, d.Tenant, st, p.ID); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) directiveStepDone(ctx context.Context, tx *sqlx.Tx, t store.Tenant, st store.WorkflowStep, directiveID string) error {
	run, err := e.st.RunForUpdate(ctx, tx, t, st.RunID)
	if err != nil || run.Finished() {
		return err
	}
	if st, err = e.st.StepByDirective(ctx, tx, t, directiveID); err != nil || st.Status != store.StepRunning {
		return err
	}
	dir, err := e.st.Directive(ctx, t, directiveID)
	if err != nil || !dir.Finished() {
		return err
	}
	if dir.Status == store.DirectiveSucceeded {
		return e.settle(ctx, tx, t, run, st, store.StepSucceeded, string(dir.Result), "")
	}
	why := dir.LastError
	if why == "" {
		why = "the directive was " + dir.Status
	}
	return e.settle(ctx, tx, t, run, st, store.StepFailed, "", why)
}
