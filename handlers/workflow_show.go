package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

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
