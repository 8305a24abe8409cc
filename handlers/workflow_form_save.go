package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
	"fleetprompt/views"
)

// workflowSave handles every post of the form: an editing button gets
// the form back; a save checks the definition with the engine (unknown
// agents and kinds included) and stores it.
func (h *Handler) workflowSave(c *gin.Context, cur *store.Workflow) error {
	ctx, t := c.Request.Context(), tenant(c)
	e := editorOf(c)
	f := views.NewForm()
	fail := func(err error) error {
		var v *store.ValidationError
		if !errors.As(err, &v) {
			return err
		}
		f.Errors = v.Fields
		return h.renderWorkflowForm(c, http.StatusUnprocessableEntity, cur, e, f)
	}
	if edited, err := e.apply(); edited {
		if err != nil {
			return fail(err)
		}
		return h.renderWorkflowForm(c, http.StatusOK, cur, e, f)
	}
	raw := e.JSON
	if c.PostForm("editor") == "rows" {
		d, err := e.definition()
		if err != nil {
			return fail(err)
		}
		raw = d.JSON()
	} else if d, err := workflow.Parse(raw); err == nil {
		e.load(d) // shown in the rows if the save is refused
	}
	d, err := h.flows.ParseAndCheck(ctx, t, raw)
	if err != nil {
		return fail(err)
	}
	spec := store.WorkflowSpec{Name: e.Name, Description: e.Description, Definition: d.JSON(), TriggerSignal: d.Trigger.Signal}
	var w store.Workflow
	if cur == nil {
		w, err = h.store.CreateWorkflow(ctx, t, spec, authOf(c).Session.UserID)
	} else {
		w, err = h.store.UpdateWorkflow(ctx, t, cur.ID, spec, authOf(c).Session.UserID)
	}
	if err != nil {
		return fail(err)
	}
	if cur == nil {
		h.flash(c, "info", w.Name+" is saved, and off. Turn it on to let it run.")
	} else {
		h.flash(c, "info", w.Name+" is saved. Runs under way keep the steps they started with.")
	}
	return redirect(c, "/workflows/"+w.ID)
}
