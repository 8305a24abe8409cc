package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// The agent form (owners and admins): GET /agents/new, POST /agents,
// GET /agents/:id/edit, POST /agents/:id, and POST /agents/validate for
// htmx's inline checks. Plain posts get 303 or the form again with 422.

var agentFields = []string{"name", "handle", "description", "system_prompt", "model", "temperature", "max_tokens"}

func agentFormOf(c *gin.Context) (store.AgentForm, *views.Form) {
	f := views.NewForm()
	for _, k := range agentFields {
		f.Values[k] = c.PostForm(k)
	}
	return store.AgentForm{Name: f.Values["name"], Handle: f.Values["handle"], Description: f.Values["description"],
		SystemPrompt: f.Values["system_prompt"], Model: f.Values["model"], Temperature: f.Values["temperature"],
		MaxTokens: f.Values["max_tokens"]}, f
}

// agentFormData is the form page's Data.
type agentFormData struct {
	Agent *store.Agent // nil for a new one
}

// Action is where the form posts.
func (d agentFormData) Action() string {
	if d.Agent == nil {
		return "/agents"
	}
	return "/agents/" + d.Agent.ID
}

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

// agentValidate is htmx's inline check of one field (_field): the field
// again, with its message.
func (h *Handler) agentValidate(c *gin.Context) error {
	form, f := agentFormOf(c)
	if v := (*store.ValidationError)(nil); errors.As(form.Check(), &v) {
		f.Errors = v.Fields
	}
	return h.fragment(c, "agent_form", "agent_field", map[string]any{"Form": f, "Name": c.PostForm("_field")})
}

func (h *Handler) renderAgentForm(c *gin.Context, status int, block string, d agentFormData, f *views.Form) error {
	title := "New agent"
	if d.Agent != nil {
		title = "Edit " + d.Agent.Name
	}
	p := h.page(c, title, d)
	p.Form = f
	if isHTMX(c) && block != "layout" {
		return h.fragment(c, "agent_form", block, p)
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	return h.views.Render(c.Writer, "agent_form", "layout", p)
}
