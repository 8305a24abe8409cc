package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

// Workflows (SPEC §13): members read them and their runs; owners and
// admins write, enable and disable them (workflow_form.go) and operate
// runs (workflow_runs.go).

// workflowRow is one workflow in the list.
type workflowRow struct {
	W       store.Workflow
	Trigger string // in words
	Steps   int
	Last    *store.WorkflowRun
}

// runRow is a run in a list, with its trigger in words.
type runRow struct {
	store.WorkflowRun
	Because string
}

func runRows(runs []store.WorkflowRun) []runRow {
	out := make([]runRow, len(runs))
	for i, r := range runs {
		out[i] = runRow{WorkflowRun: r, Because: triggerWords(r.TriggerName)}
	}
	return out
}

type workflowsData struct {
	Rows      []workflowRow
	Recent    []runRow
	Allowance store.WorkflowAllowance
	IsAdmin   bool
}

// workflows is GET /workflows.
func (h *Handler) workflows(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	wfs, err := h.store.Workflows(ctx, t)
	if err != nil {
		return err
	}
	latest, err := h.store.LatestRuns(ctx, t)
	if err != nil {
		return err
	}
	d := workflowsData{IsAdmin: authOf(c).Member.IsAdmin()}
	if d.Allowance, err = h.store.WorkflowAllowanceOf(ctx, t); err != nil {
		return err
	}
	recent, err := h.store.WorkflowRuns(ctx, t, "", 10)
	if err != nil {
		return err
	}
	d.Recent = runRows(recent)
	for _, w := range wfs {
		row := workflowRow{W: w, Trigger: triggerWords(w.TriggerSignal)}
		if def, err := workflow.Parse(string(w.Definition)); err == nil {
			row.Steps = len(def.Steps)
		}
		if r, ok := latest[w.ID]; ok {
			row.Last = &r
		}
		d.Rows = append(d.Rows, row)
	}
	return h.render(c, http.StatusOK, "workflows", "content", h.page(c, "Workflows", d))
}

// triggerWords is what a trigger signal means to people.
func triggerWords(signal string) string {
	if l := workflow.TriggerLabel(signal); l != "" {
		return l
	}
	return signal
}

// stepView is one step of a definition as its pages describe it.
type stepView struct {
	workflow.Step
	Does string // in words
}

func (h *Handler) stepViews(d workflow.Definition) []stepView {
	out := make([]stepView, 0, len(d.Steps))
	for _, s := range d.Steps {
		v := stepView{Step: s}
		switch s.Kind() {
		case workflow.KindAgent:
			v.Does = "@" + strings.TrimPrefix(s.Agent, "@") + " answers"
		case workflow.KindDirective:
			v.Does = s.Directive
			if k, ok := h.dirs.Kind(s.Directive); ok && k.Title != "" {
				v.Does = k.Title
			}
		case workflow.KindApproval:
			v.Does = "An owner or admin approves"
			if to := s.Timeout(); to > 0 {
				v.Does += " (within " + to.String() + ")"
			}
		case workflow.KindDelay:
			v.Does = "Waits " + s.DelayFor().String()
		}
		out = append(out, v)
	}
	return out
}

type workflowData struct {
	W         store.Workflow
	Trigger   string
	Where     map[string]string
	Steps     []stepView
	JSON      string
	Runs      []runRow
	Allowance store.WorkflowAllowance
	IsAdmin   bool
	Error     string // why enabling was refused
}

// workflowShow is GET /workflows/:id.
func (h *Handler) workflowShow(c *gin.Context) error {
	return h.renderWorkflow(c, http.StatusOK, "")
}

func (h *Handler) renderWorkflow(c *gin.Context, status int, problem string) error {
	ctx, t := c.Request.Context(), tenant(c)
	w, err := h.store.Workflow(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	d := workflowData{W: w, Trigger: triggerWords(w.TriggerSignal), JSON: indentJSON(string(w.Definition)),
		IsAdmin: authOf(c).Member.IsAdmin(), Error: problem}
	if def, err := workflow.Parse(string(w.Definition)); err == nil {
		d.Where, d.Steps = def.Trigger.Where, h.stepViews(def)
	}
	runs, err := h.store.WorkflowRuns(ctx, t, w.ID, 50)
	if err != nil {
		return err
	}
	d.Runs = runRows(runs)
	if d.Allowance, err = h.store.WorkflowAllowanceOf(ctx, t); err != nil {
		return err
	}
	return h.render(c, status, "workflow", "content", h.page(c, w.Name, d))
}

// workflowEnable and workflowDisable are POST /workflows/:id/enable and
// /disable. Enabling past the tier's limit is a 422 that says so.
func (h *Handler) workflowEnable(c *gin.Context) error  { return h.setWorkflowEnabled(c, true) }
func (h *Handler) workflowDisable(c *gin.Context) error { return h.setWorkflowEnabled(c, false) }

func (h *Handler) setWorkflowEnabled(c *gin.Context, on bool) error {
	w, err := h.store.SetWorkflowEnabled(c.Request.Context(), tenant(c), c.Param("id"), on, authOf(c).Session.UserID)
	if v := (*store.ValidationError)(nil); errors.As(err, &v) {
		return h.renderWorkflow(c, http.StatusUnprocessableEntity, firstMessage(v))
	} else if err != nil {
		return err
	}
	if on {
		h.flash(c, "info", w.Name+" is on: it runs each time "+strings.ToLower(triggerWords(w.TriggerSignal))+".")
	} else {
		h.flash(c, "info", w.Name+" is off: it no longer starts runs. Runs under way finish.")
	}
	return redirect(c, "/workflows/"+w.ID)
}

// firstMessage is a validation error's message for the form as a whole,
// else its first field's.
func firstMessage(v *store.ValidationError) string {
	if m := v.Fields[""]; m != "" {
		return m
	}
	for _, m := range v.Fields {
		return m
	}
	return ""
}
