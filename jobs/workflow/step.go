package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

func runDefinition(run store.WorkflowRun) (Definition, error) {
	var def Definition
	if err := json.Unmarshal(run.Definition, &def); err != nil {
		return def, jobs.Permanent(fmt.Errorf("the run's definition is unreadable: %w", err))
	}
	return def, nil
}

// stepJob runs one step: its effect (an execution or a directive
// requested, a wait begun) commits with the step's new status, so a worker
// killed mid-step retries it without a second effect. A step no longer
// pending has run already; a wait whose time has come ends.
func (e *Engine) stepJob(ctx context.Context, j *jobs.Job) error {
	var args StepArgs
	if err := j.DecodeArgs(&args); err != nil {
		return jobs.Permanent(err)
	}
	t, err := e.st.TenantBySchema(ctx, j.Tenant)
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Permanent(err)
	} else if err != nil {
		return err
	}
	return e.st.Tx(ctx, func(tx *sqlx.Tx) error {
		run, err := e.st.RunForUpdate(ctx, tx, t, args.RunID)
		if errors.Is(err, store.ErrNotFound) {
			return jobs.Permanent(err)
		} else if err != nil || run.Finished() {
			return err
		}
		steps, err := e.st.Steps(ctx, tx, t, run.ID)
		if err != nil {
			return err
		}
		for _, s := range steps {
			if s.StepID == args.StepID {
				return e.runStep(ctx, tx, t, run, steps, s)
			}
		}
		return jobs.Permanent(fmt.Errorf("run %s has no step %q", run.ID, args.StepID))
	})
}

// runStep does what a step's state calls for, in the run's transaction.
func (e *Engine) runStep(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, steps []store.WorkflowStep, s store.WorkflowStep) error {
	def, err := runDefinition(run)
	if err != nil {
		return err
	}
	st, ok := def.Step(s.StepID)
	if !ok {
		return jobs.Permanent(fmt.Errorf("step %q is not in the run's definition", s.StepID))
	}
	switch {
	case s.Status == store.StepWaiting:
		return e.waitOver(ctx, tx, t, run, st, s)
	case s.Status != store.StepPending:
		return nil // done already: a repeated job
	}
	data := templateData(run, steps)
	if st.When != "" {
		v, err := render(st.ID, st.When, data)
		if err != nil {
			return e.fail(ctx, tx, t, run, s, "when: "+err.Error())
		}
		if !truthy(v) {
			return e.settle(ctx, tx, t, run, s, store.StepSkipped, "", "")
		}
	}
	switch st.Kind() {
	case KindAgent:
		return e.startAgent(ctx, tx, t, run, st, s, data)
	case KindDirective:
		return e.startDirective(ctx, tx, t, run, st, s, data)
	case KindApproval:
		return e.startWait(ctx, tx, t, run, s, st.Timeout())
	case KindDelay:
		return e.startWait(ctx, tx, t, run, s, st.DelayFor())
	}
	return e.fail(ctx, tx, t, run, s, "the step has no kind")
}

// startAgent requests the agent step's execution; the step succeeds when
// the execution does (executionSettled).
func (e *Engine) startAgent(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, st Step, s store.WorkflowStep, data map[string]any) error {
	prompt, err := render(st.ID, st.Prompt, data)
	if err != nil {
		return e.fail(ctx, tx, t, run, s, "prompt: "+err.Error())
	}
	ag, err := e.st.AgentByHandle(ctx, tx, t, strings.TrimPrefix(st.Agent, "@"))
	if errors.Is(err, store.ErrNotFound) {
		return e.fail(ctx, tx, t, run, s, fmt.Sprintf("there is no agent @%s", st.Agent))
	} else if err != nil {
		return err
	}
	where, err := e.agentContext(run, st, data)
	if err != nil {
		return e.fail(ctx, tx, t, run, s, "thread: "+err.Error())
	}
	ex, err := e.st.RequestExecutionTx(ctx, tx, t, store.NewExecution{AgentID: ag.ID, Purpose: store.PurposeWorkflow, Input: prompt,
		Cause: store.Cause{Type: "workflow_step", ID: run.ID + "/" + st.ID}, CausationID: run.ID,
		Context:        where,
		IdempotencyKey: fmt.Sprintf("wfstep:%s:%s:%d", run.ID, st.ID, s.Attempt+1)})
	var v *store.ValidationError
	if errors.As(err, &v) {
		return e.fail(ctx, tx, t, run, s, refusal(v))
	} else if err != nil {
		return err
	}
	s, err = e.st.UpdateStepTx(ctx, tx, t, run.ID, s.StepID, store.StepChange{Status: store.StepRunning, Input: &prompt, ExecutionID: ex.ID})
	if err != nil {
		return err
	}
	if err := e.emitStep(ctx, tx, t, run, s); err != nil {
		return err
	}
	return e.advance(ctx, tx, t, run.ID)
}

// agentContext is where an agent step's execution belongs: its run and
// step, and the thread the run is about (the trigger's), which the
// built-in responder leaves out of its search; with the step's Thread, the
// thread whose open pages show the answer as it is written.
func (e *Engine) agentContext(run store.WorkflowRun, st Step, data map[string]any) (store.ExecutionContext, error) {
	c := store.ExecutionContext{RunID: run.ID, StepID: st.ID}
	if trig, ok := data["trigger"].(map[string]any); ok {
		if id, ok := trig["thread_id"].(string); ok && store.IsUUID(id) {
			c.ThreadID = id
		}
	}
	if st.Thread != "" {
		id, err := render(st.ID, st.Thread, data)
		if err != nil {
			return c, err
		}
		if id = strings.TrimSpace(id); !store.IsUUID(id) {
			return c, fmt.Errorf("%q is not a thread id", id)
		}
		c.ThreadID, c.ShowInThread = id, true
	}
	return c, nil
}

// startDirective requests the directive step's directive with the role of
// the workflow's owner; the step succeeds when the directive does
// (directiveSettled).
func (e *Engine) startDirective(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, st Step, s store.WorkflowStep, data map[string]any) error {
	payload, err := renderPayload(st.ID, st.Payload, data)
	if err != nil {
		return e.fail(ctx, tx, t, run, s, "payload: "+err.Error())
	}
	owner, isAdmin, err := e.owner(ctx, t, run)
	if err != nil {
		return e.fail(ctx, tx, t, run, s, err.Error())
	}
	input, _ := json.MarshalIndent(payload, "", "  ")
	in := string(input)
	dir, _, err := e.dirs().RequestTx(ctx, tx, t, store.DirectiveRequest{Kind: st.Directive, Payload: payload, UserID: owner,
		CausationID: run.ID, IdempotencyKey: fmt.Sprintf("wfstep:%s:%s:%d", run.ID, st.ID, s.Attempt+1)}, isAdmin)
	var v *store.ValidationError
	switch {
	case errors.As(err, &v):
		return e.fail(ctx, tx, t, run, s, refusal(v))
	case errors.Is(err, store.ErrForbidden):
		return e.fail(ctx, tx, t, run, s, "the workflow's owner may not request "+st.Directive)
	case err != nil:
		return err
	}
	if s, err = e.st.UpdateStepTx(ctx, tx, t, run.ID, s.StepID, store.StepChange{Status: store.StepRunning, Input: &in, DirectiveID: dir.ID}); err != nil {
		return err
	}
	if err := e.emitStep(ctx, tx, t, run, s); err != nil {
		return err
	}
	return e.advance(ctx, tx, t, run.ID)
}

// owner is the user the run's directives act for: the workflow's owner,
// who must still be an active member.
func (e *Engine) owner(ctx context.Context, t store.Tenant, run store.WorkflowRun) (int64, bool, error) {
	wf, err := e.st.Workflow(ctx, t, run.WorkflowID)
	if err != nil || wf.OwnerUserID == 0 {
		return 0, false, errors.New("the workflow has no owner to act for")
	}
	m, err := e.st.MemberByUserID(ctx, t.OrgID, wf.OwnerUserID)
	if err != nil || !m.Active() {
		return 0, false, errors.New("the workflow's owner is no longer an active member")
	}
	return m.UserID, store.IsAdminRole(m.Role), nil
}

// startWait makes the step wait: for a person (an approval, until its
// timeout if it has one) or for a time (a delay). A job looks at it again
// when the time comes.
func (e *Engine) startWait(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, s store.WorkflowStep, d time.Duration) error {
	c := store.StepChange{Status: store.StepWaiting}
	var until time.Time
	if d > 0 {
		until = time.Now().Add(d)
		c.WaitUntil = &until
	}
	s, err := e.st.UpdateStepTx(ctx, tx, t, run.ID, s.StepID, c)
	if err != nil {
		return err
	}
	if d > 0 {
		if err := enqueueStep(ctx, tx, t, run.ID, s, until); err != nil {
			return err
		}
	}
	if err := e.emitStep(ctx, tx, t, run, s); err != nil {
		return err
	}
	return e.advance(ctx, tx, t, run.ID)
}

// waitOver ends a wait whose time has come: a delay succeeds, an approval
// nobody decided fails (its timeout).
func (e *Engine) waitOver(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, st Step, s store.WorkflowStep) error {
	if !s.WaitUntil.Valid || time.Now().Before(s.WaitUntil.Time) {
		return nil // woken early, or a wait for a person only
	}
	if st.Kind() == KindApproval {
		return e.fail(ctx, tx, t, run, s, fmt.Sprintf("nobody approved within %s", st.Approval.Timeout))
	}
	return e.settle(ctx, tx, t, run, s, store.StepSucceeded, "", "")
}

// settle finishes a step with status and output, and moves the run on.
func (e *Engine) settle(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, s store.WorkflowStep, status, output, errText string) error {
	s, err := e.st.UpdateStepTx(ctx, tx, t, run.ID, s.StepID, store.StepChange{Status: status, Output: &output, Error: &errText})
	if err != nil {
		return err
	}
	if status != store.StepSkipped {
		if err := e.emitStep(ctx, tx, t, run, s); err != nil {
			return err
		}
	}
	return e.advance(ctx, tx, t, run.ID)
}

func (e *Engine) fail(ctx context.Context, tx *sqlx.Tx, t store.Tenant, run store.WorkflowRun, s store.WorkflowStep, why string) error {
	return e.settle(ctx, tx, t, run, s, store.StepFailed, "", why)
}

func refusal(v *store.ValidationError) string {
	var parts []string
	for k, m := range v.Fields {
		if k != "" {
			m = k + ": " + m
		}
		parts = append(parts, m)
	}
	return strings.Join(parts, "; ")
}
