package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
	"fleetprompt/views"
)

func (h *Handler) renderWorkflowForm(c *gin.Context, status int, w *store.Workflow, e editor, f *views.Form) error {
	agents, err := h.store.ListAgents(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	d := workflowFormData{Workflow: w, Editor: e, Agents: agents}
	for _, s := range workflow.TriggerNames() {
		d.Triggers = append(d.Triggers, triggerOption{Signal: s, Label: workflow.TriggerLabel(s)})
	}
	for _, k := range h.dirs.Kinds() {
		if k.Name != workflow.DirectiveRunStart {
			d.Kinds = append(d.Kinds, k)
		}
	}
	title := "New workflow"
	if w != nil {
		title = "Edit " + w.Name
	}
	p := h.page(c, title, d)
	p.Form = f
	return h.render(c, status, "workflow_form", "workflow_form", p)
}
