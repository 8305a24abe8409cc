package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

// A workflow run's page (GET /workflows/runs/:id, live on run:<id>) and
// what owners and admins do to a run: retry from the failed steps,
// cancel, approve or reject a waiting approval.

// runStepView is one step of a run: its state, and what the definition
// the run started with says of it.
type runStepView struct {
	store.WorkflowStep
	Def       stepView
	DecidedBy string
}

// PostURL links to the post a directive step wrote, if it wrote one.
func (s runStepView) PostURL() string {
	var out struct {
		PostID   string `json:"post_id"`
		ThreadID string `json:"thread_id"`
	}
	if s.Kind != workflow.KindDirective || json.Unmarshal([]byte(s.Output), &out) != nil || !store.IsUUID(out.ThreadID) || !store.IsUUID(out.PostID) {
		return ""
	}
	return "/forums/t/" + out.ThreadID + "#post-" + out.PostID
}

// AwaitsDecision reports whether the step waits for a person's decision.
func (s runStepView) AwaitsDecision() bool {
	return s.Kind == workflow.KindApproval && s.Status == store.StepWaiting
}

type runData struct {
	Run     store.WorkflowRun
	Steps   []runStepView
	Trigger string // in words
	// TriggerURL opens what the trigger was about (a thread).
	TriggerURL  string
	TriggerData string // the template data of .trigger, as JSON
	IsAdmin     bool
	Seq         int64 // the page's live cursor
	Error       string
}

// Live reports whether the run may still change on its own.
func (d runData) Live() bool { return !d.Run.Finished() }

// CanRetry and CanCancel say which buttons an owner or admin gets.
func (d runData) CanRetry() bool  { return d.IsAdmin && d.Run.Status == store.RunFailed }
func (d runData) CanCancel() bool { return d.IsAdmin && !d.Run.Finished() }

func (h *Handler) workflowRun(c *gin.Context) error {
	return h.renderRun(c, http.StatusOK, "")
}

func (h *Handler) renderRun(c *gin.Context, status int, problem string) error {
	ctx, t := c.Request.Context(), tenant(c)
	seq, err := h.store.LatestSignalSeq(ctx, t)
	if err != nil {
		return err
	}
	run, err := h.store.Run(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	d, err := h.runView(ctx, t, run, authOf(c).Member.IsAdmin())
	if err != nil {
		return err
	}
	d.Seq, d.Error = seq, problem
	return h.render(c, status, "workflow_run", "content", h.page(c, "Run of "+run.WorkflowName, d))
}

func (h *Handler) runView(ctx context.Context, t store.Tenant, run store.WorkflowRun, admin bool) (runData, error) {
	d := runData{Run: run, Trigger: triggerWords(run.TriggerName), IsAdmin: admin, TriggerData: indentJSON(string(run.Trigger))}
	var trig struct {
		ThreadID string `json:"thread_id"`
	}
	if json.Unmarshal(run.Trigger, &trig) == nil && store.IsUUID(trig.ThreadID) {
		d.TriggerURL = "/forums/t/" + trig.ThreadID
	}
	defs := map[string]stepView{}
	if def, err := workflow.Parse(string(run.Definition)); err == nil {
		for _, v := range h.stepViews(def) {
			defs[v.ID] = v
		}
	}
	steps, err := h.store.Steps(ctx, h.store.DB, t, run.ID)
	if err != nil {
		return d, err
	}
	var deciders []int64
	for _, s := range steps {
		if s.DecidedBy.Valid {
			deciders = append(deciders, s.DecidedBy.Int64)
		}
	}
	names, err := h.store.UserNames(ctx, deciders)
	if err != nil {
		return d, err
	}
	for _, s := range steps {
		v := runStepView{WorkflowStep: s, Def: defs[s.StepID]}
		if s.DecidedBy.Valid {
			v.DecidedBy = names[s.DecidedBy.Int64]
		}
		d.Steps = append(d.Steps, v)
	}
	return d, nil
}

// runAction ends an operator's post: back to the run, or the run page
// again with 422 and the reason (the run is not in a state to do it).
func (h *Handler) runAction(c *gin.Context, err error, done string) error {
	if v := (*store.ValidationError)(nil); errors.As(err, &v) {
		return h.renderRun(c, http.StatusUnprocessableEntity, firstMessage(v))
	} else if err != nil {
		return err
	}
	h.flash(c, "info", done)
	return redirect(c, "/workflows/runs/"+c.Param("id"))
}

func (h *Handler) workflowRunRetry(c *gin.Context) error {
	err := h.flows.Retry(c.Request.Context(), tenant(c), c.Param("id"), authOf(c).Session.UserID)
	return h.runAction(c, err, "The run goes on from its failed steps.")
}

func (h *Handler) workflowRunCancel(c *gin.Context) error {
	ids, err := h.flows.Cancel(c.Request.Context(), tenant(c), c.Param("id"), authOf(c).Session.UserID)
	if err == nil && h.engine != nil {
		for _, id := range ids {
			h.engine.Cancel(id) // one running in this process stops now
		}
	}
	return h.runAction(c, err, "The run is canceled.")
}

func (h *Handler) workflowStepApprove(c *gin.Context) error { return h.decide(c, true) }
func (h *Handler) workflowStepReject(c *gin.Context) error  { return h.decide(c, false) }

func (h *Handler) decide(c *gin.Context, approve bool) error {
	a := authOf(c)
	err := h.flows.Decide(c.Request.Context(), tenant(c), c.Param("id"), c.Param("step"), approve, a.Session.UserID, a.Session.Name)
	done := fmt.Sprintf("Step %q is approved: the run goes on.", c.Param("step"))
	if !approve {
		done = fmt.Sprintf("Step %q is rejected: the run stops there.", c.Param("step"))
	}
	return h.runAction(c, err, done)
}
