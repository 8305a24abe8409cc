package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

func (h *Handler) agentEdit(c *gin.Context) error {
	a, err := h.store.AgentByID(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	cfg := a.ConfigValues()
	f := views.NewForm()
	f.Values = map[string]string{"name": a.Name, "handle": a.Handle, "description": a.Description, "system_prompt": a.SystemPrompt,
		"model": cfg.Model, "temperature": trimFloat(cfg.Temperature), "max_tokens": itoa(cfg.MaxTokens)}
	return h.renderAgentForm(c, http.StatusOK, "layout", agentFormData{Agent: &a}, f)
}

func (h *Handler) agentUpdate(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	cur, err := h.store.AgentByID(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	form, f := agentFormOf(c)
	a, err := h.store.UpdateAgent(ctx, t, cur.ID, form, authOf(c).Session.UserID)
	if v := (*store.ValidationError)(nil); errors.As(err, &v) {
		f.Errors = v.Fields
		return h.renderAgentForm(c, http.StatusUnprocessableEntity, "agent_form", agentFormData{Agent: &cur}, f)
	} else if err != nil {
		return err
	}
	h.flash(c, "info", a.Name+" is saved.")
	return redirect(c, "/agents/"+a.ID)
}
