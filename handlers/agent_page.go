package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// agentData is the agent detail page.
type agentData struct {
	Agent   store.Agent
	Config  store.AgentConfig
	Actions []string // legal transitions from the current state
	// Package is the package that created the agent, when it still exists.
	Package *store.Package
	Runs    []store.Execution
	IsAdmin bool
	// Key is the run form's idempotency key.
	Key string
}

// agent shows one agent: what it is, its state and what can be done with
// it, a form to run it, and its latest runs. An id from another
// organization is simply not found.
func (h *Handler) agent(c *gin.Context) error {
	return h.renderAgent(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderAgent(c *gin.Context, status int, f *views.Form) error {
	ctx, t := c.Request.Context(), tenant(c)
	a, err := h.store.AgentByID(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	d := agentData{Agent: a, Config: a.ConfigValues(), Actions: store.LegalActions(a.State), IsAdmin: authOf(c).Member.IsAdmin(),
		Key: newIdempotencyKey()}
	if a.Archived() {
		d.Actions = nil
	}
	if a.PackageSlug.Valid {
		if p, err := h.store.PackageBySlug(ctx, a.PackageSlug.String); err == nil {
			d.Package = &p
		}
	}
	if d.Runs, err = h.store.AgentExecutions(ctx, t, a.ID, 20); err != nil {
		return err
	}
	p := h.page(c, a.Name, d)
	p.Form = f
	return h.render(c, status, "agent", "content", p)
}
