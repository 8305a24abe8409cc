package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

// Workflows (SPEC §13): members read them and their runs; owners and
// admins write them (workflow_form.go), enable and disable them
// (workflow_enable.go) and operate runs (workflow_run_actions.go).

// workflowRow is one workflow in the list.
type workflowRow struct {
	W       store.Workflow
	Trigger string // in words
	Steps   int
	Last    *store.WorkflowRun
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
