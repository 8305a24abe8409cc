package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// agentGroup is the agents in one state.
type agentGroup struct {
	State  string
	Agents []store.Agent
}

// agents lists the organization's agents grouped by state, in lifecycle order.
func (h *Handler) agents(c *gin.Context) error {
	all, err := h.store.ListAgents(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	groups := make([]agentGroup, 0, len(store.AgentStates))
	for _, st := range store.AgentStates {
		g := agentGroup{State: st}
		for _, a := range all {
			if a.State == st {
				g.Agents = append(g.Agents, a)
			}
		}
		groups = append(groups, g)
	}
	return h.render(c, http.StatusOK, "agents", "content", h.page(c, "Agents", map[string]any{"Groups": groups, "Total": len(all)}))
}

// agentData is the agent detail page.
type agentData struct {
	Agent   store.Agent
	Config  store.AgentConfig
	Actions []string // legal transitions from the current state
	// Package is the package that created the agent, when it still exists.
	Package *store.Package
}

// agent shows one agent: config, system prompt, state and package. An id
// from another organization is simply not found.
func (h *Handler) agent(c *gin.Context) error {
	ctx := c.Request.Context()
	a, err := h.store.AgentByID(ctx, tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	d := agentData{Agent: a, Config: a.ConfigValues(), Actions: store.LegalActions(a.State)}
	if a.PackageSlug.Valid {
		if p, err := h.store.PackageBySlug(ctx, a.PackageSlug.String); err == nil {
			d.Package = &p
		}
	}
	return h.render(c, http.StatusOK, "agent", "content", h.page(c, a.Name, d))
}
