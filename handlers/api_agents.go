package handlers

import (
	"context"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// apiAgents is GET /api/v1/agents?after=&limit=: the organization's
// agents (archived ones aside), by id.
func (h *Handler) apiAgents(c *gin.Context) error {
	limit, err := apiLimit(c, 50, 200)
	if err != nil {
		return err
	}
	agents, err := h.store.ListAgents(c.Request.Context(), apiCaller(c).Tenant())
	if err != nil {
		return err
	}
	sort.Slice(agents, func(i, j int) bool { return agents[i].ID < agents[j].ID })
	page, next := pageSorted(agents, func(a store.Agent) string { return a.ID }, c.Query("after"), limit)
	out := make([]apiAgent, len(page))
	for i, a := range page {
		out[i] = toAPIAgent(a)
	}
	c.JSON(http.StatusOK, newList(out, next))
	return nil
}

// apiExecute is POST /api/v1/agents/:id/executions {"input"}: the same
// execution as a run from the agent's page, caused by the API key, 202
// with it queued; poll GET /api/v1/executions/:id. Only an active agent
// runs (422 with the reason otherwise).
func (h *Handler) apiExecute(c *gin.Context) error {
	caller := apiCaller(c)
	if _, err := h.store.AgentByID(c.Request.Context(), caller.Tenant(), c.Param("id")); err != nil {
		return err
	}
	return h.apiWrite(c, func(ctx context.Context, tx *sqlx.Tx, raw []byte, once store.APIOnce) (int, any, error) {
		var in struct {
			Input string `json:"input"`
		}
		if err := decodeJSON(raw, &in); err != nil {
			return 0, nil, err
		}
		e, err := h.store.RequestExecutionTx(ctx, tx, caller.Tenant(), store.NewExecution{AgentID: c.Param("id"),
			Purpose: store.PurposeRun, Input: in.Input, Cause: store.Cause{Type: "api_key", ID: caller.KeyID},
			UserID: caller.UserID, IdempotencyKey: directiveKey(once)})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, toAPIExecution(e), nil
	})
}

// apiExecution is GET /api/v1/executions/:id. A chat answer is its
// member's alone: not found here.
func (h *Handler) apiExecution(c *gin.Context) error {
	e, err := h.store.Execution(c.Request.Context(), apiCaller(c).Tenant(), c.Param("id"))
	if err != nil {
		return err
	}
	if e.Private() {
		return store.ErrNotFound
	}
	c.JSON(http.StatusOK, toAPIExecution(e))
	return nil
}
