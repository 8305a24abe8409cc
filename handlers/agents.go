package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
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
