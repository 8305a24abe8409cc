package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// "Ask an agent" (SPEC §14): a moderator asks one of the organization's
// active agents to answer in a thread. The answer streams into every
// open copy of the thread, then is posted as the agent.

// forumAskData is the ask page.
type forumAskData struct {
	Thread store.ForumThread
	Agents []store.Agent // the active ones
	Key    string
}

func (h *Handler) forumAskPage(c *gin.Context) error {
	return h.renderAsk(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderAsk(c *gin.Context, status int, f *views.Form) error {
	ctx, t := c.Request.Context(), tenant(c)
	th, err := h.store.ForumThread(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	all, err := h.store.ListAgents(ctx, t)
	if err != nil {
		return err
	}
	d := forumAskData{Thread: th, Key: newIdempotencyKey()}
	for _, a := range all {
		if a.Active() {
			d.Agents = append(d.Agents, a)
		}
	}
	p := h.page(c, "Ask an agent", d)
	p.Form = f
	return h.render(c, status, "forum_ask", "content", p)
}
