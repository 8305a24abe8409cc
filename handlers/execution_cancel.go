package handlers

import (
	"errors"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// executionCancel is POST /executions/:id/cancel: the person who asked,
// or an owner or admin, stops a run; the worker stops at its next save.
func (h *Handler) executionCancel(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	ex, err := h.store.Execution(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	if !ex.VisibleTo(a.Session.UserID) {
		return errNotFound
	}
	if !a.Member.IsAdmin() && ex.RequestedBy != a.Session.UserID {
		return store.ErrForbidden
	}
	if _, err := h.store.CancelExecution(ctx, t, ex.ID); errors.Is(err, store.ErrConflict) {
		h.flash(c, "info", "The run had already finished.")
	} else if err != nil {
		return err
	}
	if h.engine != nil {
		h.engine.Cancel(ex.ID)
	}
	return redirect(c, "/executions/"+ex.ID)
}
