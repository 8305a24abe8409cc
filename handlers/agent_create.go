package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

func (h *Handler) agentNew(c *gin.Context) error {
	f := views.NewForm()
	cfg := store.DefaultAgentConfig
	f.Values["model"], f.Values["temperature"], f.Values["max_tokens"] = cfg.Model, trimFloat(cfg.Temperature), itoa(cfg.MaxTokens)
	return h.renderAgentForm(c, http.StatusOK, "layout", agentFormData{}, f)
}

func (h *Handler) agentCreate(c *gin.Context) error {
	form, f := agentFormOf(c)
	a, err := h.store.CreateAgent(c.Request.Context(), tenant(c), form, authOf(c).Session.UserID)
	if v := (*store.ValidationError)(nil); errors.As(err, &v) {
		f.Errors = v.Fields
		return h.renderAgentForm(c, http.StatusUnprocessableEntity, "agent_form", agentFormData{}, f)
	} else if err != nil {
		return err
	}
	h.flash(c, "info", a.Name+" is created as a draft. Deploy it to test it and make it active.")
	return redirect(c, "/agents/"+a.ID)
}
