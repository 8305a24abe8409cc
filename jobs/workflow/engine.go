package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// Names the engine registers.
const (
	// DirectiveRunStart starts a run: one per workflow and signal (its
	// idempotency key is made from both).
	DirectiveRunStart = "workflow.run.start"
	// StepJob runs (or, for a wait, looks again at) one step of a run.
	StepJob = "workflow.step"
	// MaxDepth stops chains of workflows triggering each other.
	MaxDepth = 5
)

// Engine runs workflows.
type Engine struct {
	st   *store.Store
	dirs func() *directive.Engine // set after the directive engine is built
	log  *slog.Logger
}

// New builds the engine. dirs is the directive engine its directive
// steps request through (given as a function: the directive engine's
// table of kinds includes this engine's).
func New(st *store.Store, dirs func() *directive.Engine, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	return &Engine{st: st, dirs: dirs, log: log.With("component", "workflows")}
}

// Kinds are the engine's directive kinds.
func (e *Engine) Kinds() []directive.Kind {
	return []directive.Kind{{Name: DirectiveRunStart, Title: "Start a workflow run", Pending: "Run requested",
		Role: directive.RoleAdmin, Run: e.startRun}}
}

// Subscribers are the engine's signal subscribers: the trigger, and the
// outcome of directive steps. Both batch briefly (signal.Prompt): a run's
// start and its next step are delays people see.
func (e *Engine) Subscribers() []signal.Subscriber {
	return []signal.Subscriber{
		{Name: "workflow.trigger", Signals: TriggerNames(), FromLatest: true, Coalesce: signal.Prompt, HandleFunc: e.triggered},
		{Name: "workflow.directive_outcomes", Signals: []string{"directive.succeeded", "directive.failed", "directive.canceled"},
			FromLatest: true, Coalesce: signal.Prompt, HandleFunc: e.directiveSettled},
	}
}

// Purpose is the agent purpose of agent steps: a run's output becomes
// the step's, in the transaction that records the run.
func (e *Engine) Purpose() agent.Purpose {
	return agent.Purpose{Name: store.PurposeWorkflow, FinishFunc: e.executionSettled}
}

// RegisterJobs registers the step job.
func (e *Engine) RegisterJobs(r *jobs.Runner) { r.Handle(StepJob, e.stepJob) }

// triggered starts a run for each enabled workflow a signal matches,
// through workflow.run.start in the delivery's transaction, unless the
// signal was caused by the workflow's own runs or ends a chain deeper
// than MaxDepth.
func (e *Engine) triggered(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) error {
	var names []string
	for _, s := range d.Signals {
		names = append(names, s.Name)
	}
	wfs, err := e.st.EnabledWorkflowsFor(ctx, tx, d.Tenant, names)
	if err != nil || len(wfs) == 0 {
		return err
	}
	for _, sig := range d.Signals {
		if private(sig) {
			continue
		}
		for _, wf := range wfs {
			// Enabled after the signal happened: not its to react to.
			if wf.TriggerSignal == sig.Name && !(wf.EnabledAt.Valid && sig.OccurredAt.Before(wf.EnabledAt.Time)) {
				if err := e.trigger(ctx, tx, d.Tenant, wf, sig); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// private reports a signal of one member's chat: it starts nothing.
func private(sig store.Signal) bool {
	return len(sig.Name) > 5 && sig.Name[:5] == "chat." || len(sig.SubjectType) > 5 && sig.SubjectType[:5] == "chat_"
}

// RunStartArgs are workflow.run.start's payload.
type RunStartArgs struct {
	WorkflowID string `json:"workflow_id"`
	SignalSeq  int64  `json:"signal_seq"`
	Depth      int    `json:"depth"`
}

func (e *Engine) trigger(ctx context.Context, tx *sqlx.Tx, t store.Tenant, wf store.Workflow, sig store.Signal) error {
	var def Definition
	if err := json.Unmarshal(wf.Definition, &def); err != nil {
		e.log.Warn("workflow with an unreadable definition", "workflow", wf.ID, "err", err)
		return nil
	}
	var payload map[string]any
	json.Unmarshal(sig.Payload, &payload)
	if !def.Trigger.Matches(payload) {
		return nil
	}
	depth := 0
	cause, ok, err := e.st.RunCause(ctx, tx, t, sig)
	if err != nil {
		return err
	}
	if ok {
		if cause.WorkflowID == wf.ID {
			return nil // its own run caused it: never a loop
		}
		if depth = cause.Depth + 1; depth >= MaxDepth {
			e.log.Info("workflow chain stopped", "tenant", t.Schema(), "workflow", wf.Name, "depth", depth, "signal", sig.Seq)
			return nil
		}
	}
	_, _, err = e.st.RequestDirectiveTx(ctx, tx, t, store.DirectiveRequest{Kind: DirectiveRunStart,
		Payload:        RunStartArgs{WorkflowID: wf.ID, SignalSeq: sig.Seq, Depth: depth},
		IdempotencyKey: fmt.Sprintf("wf:%s:%s", wf.ID, sig.ID), UserID: wf.OwnerUserID,
		Subject: store.Subject{Type: store.SubjectWorkflow, ID: wf.ID}, CausationID: sig.ID})
	return err
}

// startRun is workflow.run.start: the run and its steps, and the jobs of
// the steps that need nothing, in the directive's transaction.
func (e *Engine) startRun(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
	var args RunStartArgs
	if err := directive.Decode(d, &args); err != nil {
		return nil, err
	}
	wf, err := e.st.Workflow(ctx, t, args.WorkflowID)
	if err != nil {
		return nil, jobs.Permanent(fmt.Errorf("the workflow is gone: %w", err))
	}
	sig, err := e.st.SignalBySeq(ctx, t, args.SignalSeq)
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	var def Definition
	if err := json.Unmarshal(wf.Definition, &def); err != nil {
		return nil, jobs.Permanent(err)
	}
	steps := make([]store.NewRunStep, len(def.Steps))
	for i, s := range def.Steps {
		steps[i] = store.NewRunStep{ID: s.ID, Kind: s.Kind()}
	}
	run, created, err := e.st.CreateRunTx(ctx, tx, t, store.NewRun{Workflow: wf, Signal: sig, Trigger: TriggerData(sig),
		Depth: args.Depth, DirectiveID: d.ID, Steps: steps})
	if err != nil || !created {
		return map[string]string{"run_id": run.ID}, err
	}
	if err := e.emitRun(ctx, tx, t, run, "workflow.run.started", nil); err != nil {
		return nil, err
	}
	return map[string]string{"run_id": run.ID}, e.advance(ctx, tx, t, run.ID)
}
