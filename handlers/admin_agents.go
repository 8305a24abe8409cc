package handlers

import (
	"context"
	"fmt"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// adminAgentsData is the agents table.
type adminAgentsData struct {
	Agents []store.Agent
	States []string
}

// Actions returns the transitions the agent's state allows: the only
// buttons its row shows.
func (adminAgentsData) Actions(a store.Agent) []string { return store.LegalActions(a.State) }

// adminAgents is GET /admin/agents?state=&after=.
func (h *Handler) adminAgents(c *gin.Context) error {
	v := newAdminView(c, "agents")
	page, err := h.store.AdminAgents(c.Request.Context(), tenant(c), store.AgentFilter{State: v.Q("state"), After: v.Q("after"), Limit: v.Limit()})
	if err != nil {
		return err
	}
	v.pageLinks("/admin/agents", "after", page.Next)
	v.List = adminAgentsData{Agents: page.Agents, States: store.AgentStates}
	return h.adminRender(c, "admin_agents", "Agents", v)
}

// adminAgentTransition is POST /admin/agents/:id/transitions (action). The
// state machine refuses an illegal action with a message (422); a foreign
// id is 404.
func (h *Handler) adminAgentTransition(c *gin.Context) error {
	return h.adminAct(c, "/admin/agents", h.adminAgents, func(ctx context.Context) (string, error) {
		action := c.PostForm("action")
		a, dir, err := h.store.ChangeAgentState(ctx, tenant(c), c.Param("id"), action, authOf(c).Session.UserID, c.PostForm("idempotency_key"))
		if err != nil {
			return "", err
		}
		if dir != nil {
			return fmt.Sprintf("%s: deploying; a test run checks it, then it becomes active.", a.Name), nil
		}
		return fmt.Sprintf("%s: %s → now %s.", a.Name, action, a.State), nil
	})
}
