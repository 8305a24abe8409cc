package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// agentGroup is the agents in one state.
type agentGroup struct {
	State, Label string
	Agents       []store.Agent
}

// agentGroupLabels say what each state means to the people reading the list.
var agentGroupLabels = map[string]string{
	store.AgentActive: "Active", store.AgentDeploying: "Deploying", store.AgentPaused: "Paused",
	store.AgentError: "Need attention", store.AgentDraft: "Drafts",
}

// agentsPage is GET /agents.
type agentsPage struct {
	Groups  []agentGroup // only the states someone is in
	Total   int
	Recent  []store.Execution
	IsAdmin bool
}

// agents lists the organization's agents by state (active first, empty
// states left out), with the latest runs.
func (h *Handler) agents(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	all, err := h.store.ListAgents(ctx, t)
	if err != nil {
		return err
	}
	d := agentsPage{Total: len(all), IsAdmin: authOf(c).Member.IsAdmin()}
	for _, st := range []string{store.AgentActive, store.AgentError, store.AgentDeploying, store.AgentPaused, store.AgentDraft} {
		g := agentGroup{State: st, Label: agentGroupLabels[st]}
		for _, a := range all {
			if a.State == st {
				g.Agents = append(g.Agents, a)
			}
		}
		if len(g.Agents) > 0 {
			d.Groups = append(d.Groups, g)
		}
	}
	if d.Recent, err = h.store.RecentExecutions(ctx, t, 10); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "agents", "content", h.page(c, "Agents", d))
}

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
