package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
	"fleetprompt/views"
)

// The workflow form (owners and admins): GET /workflows/new, POST
// /workflows, GET /workflows/:id/edit, POST /workflows/:id. The editing
// buttons (add, remove, import) post the same form and get it back; a
// save gets 303, or the form again with 422 naming the problem.

// triggerOption is one entry of the trigger picker.
type triggerOption struct{ Signal, Label string }

type workflowFormData struct {
	Workflow *store.Workflow // nil for a new one
	Editor   editor
	Triggers []triggerOption
	Agents   []store.Agent
	Kinds    []directive.Kind
}

// Action is where the form posts.
func (d workflowFormData) Action() string {
	if d.Workflow == nil {
		return "/workflows"
	}
	return "/workflows/" + d.Workflow.ID
}

func workflowInvalid(msg string) error { return store.Invalid("definition", msg) }

func (h *Handler) workflowEdit(c *gin.Context) error {
	w, err := h.store.Workflow(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	e := editor{Name: w.Name, Description: w.Description, JSON: indentJSON(string(w.Definition))}
	if d, err := workflow.Parse(string(w.Definition)); err == nil {
		e.load(d)
	}
	return h.renderWorkflowForm(c, http.StatusOK, &w, e, views.NewForm())
}

func (h *Handler) workflowCreate(c *gin.Context) error { return h.workflowSave(c, nil) }

func (h *Handler) workflowUpdate(c *gin.Context) error {
	w, err := h.store.Workflow(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	return h.workflowSave(c, &w)
}
