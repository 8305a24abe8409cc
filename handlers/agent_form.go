package handlers

import (
	"errors"

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
