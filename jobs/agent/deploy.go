package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
)

// Deploying (SPEC §12): deploy moves a draft (or an agent in error) to
// deploying and requests agent.deploy, which checks the configuration
// with one test execution and activates the agent, or moves it to error
// with the reason.

// DeployResult is agent.deploy's result.
type DeployResult struct {
	AgentID     string `json:"agent_id"`
	ExecutionID string `json:"execution_id"`
	State       string `json:"state"`
}

const testInput = "This is a deployment check. Reply with one short sentence saying you are ready."

func (e *Engine) deployWork(ctx context.Context, t store.Tenant, d store.Directive) (directive.CommitFunc, error) {
	var args store.DeployArgs
	if err := directive.Decode(d, &args); err != nil {
		return nil, err
	}
	ag, err := e.st.AgentByID(ctx, t, args.AgentID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jobs.Permanent(err)
	} else if err != nil {
		return nil, err
	}
	if ag.State != store.AgentDeploying || ag.Archived() {
		return nil, store.Invalid("", fmt.Sprintf("%s is %s, not deploying: nothing to deploy.", ag.Name, ag.State))
	}
	ex, err := e.testExecution(ctx, t, d, ag)
	if err != nil {
		return nil, err
	}
	out := store.ExecutionOutcome{ID: ex.ID, Status: ex.Status, Output: ex.Output}
	if !ex.Finished() {
		if ex, _, err = e.st.StartExecution(ctx, t, ex.ID); err != nil {
			return nil, err
		}
		if out, err = e.run(ctx, t, ex); err != nil {
			return nil, err
		}
	}
	finish := e.commitOutcome(t, out)
	return func(ctx context.Context, tx *sqlx.Tx) (any, error) {
		if _, err := finish(ctx, tx); err != nil {
			return nil, err
		}
		action, reason := "activate", ""
		if out.Status != store.ExecSucceeded || out.Output == "" {
			action, reason = "error", "the deployment check failed: "+firstNonEmpty(out.Error, "the agent gave no answer")
		}
		a, err := e.st.TransitionAgentTx(ctx, tx, t, ag.ID, action, d.RequestedByUserID, reason)
		return DeployResult{AgentID: ag.ID, ExecutionID: ex.ID, State: a.State}, err
	}, nil
}

// testExecution is the deploy's test run: made once per directive, found
// again by a retry.
func (e *Engine) testExecution(ctx context.Context, t store.Tenant, d store.Directive, ag store.Agent) (store.Execution, error) {
	return e.st.InlineExecution(ctx, t, store.NewExecution{AgentID: ag.ID, Purpose: store.PurposeTest, Input: testInput,
		Cause: store.Cause{Type: "directive", ID: d.ID}, UserID: d.RequestedByUserID}, d.ID)
}
