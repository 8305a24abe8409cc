package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

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
