package handlers

import (
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// agentTransition is POST /agents/:id/transitions (action). deploy and
// redeploy start a deployment: a test run that activates the agent or
// says why it could not.
func (h *Handler) agentTransition(c *gin.Context) error {
	a, dir, err := h.store.ChangeAgentState(c.Request.Context(), tenant(c), c.Param("id"), c.PostForm("action"),
		authOf(c).Session.UserID, c.PostForm("idempotency_key"))
	if err != nil {
		return err
	}
	if dir != nil {
		h.flash(c, "info", fmt.Sprintf("Deploying %s: a test run checks it, then it becomes active (or says why not).", a.Name))
	} else {
		h.flash(c, "info", fmt.Sprintf("%s is now %s.", a.Name, a.State))
	}
	return redirect(c, localPath(c.PostForm("redirect_to"), "/agents/"+a.ID))
}

// agentArchive is POST /agents/:id/archive.
func (h *Handler) agentArchive(c *gin.Context) error {
	a, err := h.store.ArchiveAgent(c.Request.Context(), tenant(c), c.Param("id"), authOf(c).Session.UserID)
	if err != nil {
		return err
	}
	h.flash(c, "info", a.Name+" is archived: it no longer runs, and its name is free. Its runs are kept.")
	return redirect(c, "/agents")
}

// agentRun is POST /agents/:id/executions (input): the run is queued and
// the person goes to its page, where the answer streams in.
func (h *Handler) agentRun(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	ag, err := h.store.AgentByID(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	ex, err := h.store.RequestExecution(ctx, t, store.NewExecution{AgentID: ag.ID, Purpose: store.PurposeRun, Input: c.PostForm("input"),
		Cause: store.Cause{Type: "user", ID: strconv.FormatInt(a.Session.UserID, 10)}, UserID: a.Session.UserID,
		IdempotencyKey: c.PostForm("idempotency_key")})
	if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		f := formOf(c, "input")
		f.Errors = v.Fields
		if m := v.Fields["agent"]; m != "" {
			f.Errors["input"] = m
		}
		return h.renderAgent(c, 422, f)
	} else if err != nil {
		return err
	}
	return redirect(c, "/executions/"+ex.ID)
}
