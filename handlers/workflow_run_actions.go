package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

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
