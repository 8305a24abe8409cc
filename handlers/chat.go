package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// chatStaleAfter: a streaming answer without progress for this long was
// left behind (its run gave up); it is marked failed so it can be retried.
const chatStaleAfter = 3 * time.Minute

// chatIndexData is the data of the chat index page.
type chatIndexData struct {
	Agents        []store.Agent
	Conversations []store.Conversation
	// Provider is false when no model is configured: the page says the
	// built-in responder answers.
	Provider bool
}

// chatIndex is GET /chat: pick an agent, see your conversations.
func (h *Handler) chatIndex(c *gin.Context) error {
	return h.renderChatIndex(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderChatIndex(c *gin.Context, status int, f *views.Form) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	agents, err := h.store.ListAgents(ctx, t)
	if err != nil {
		return err
	}
	convs, err := h.store.Conversations(ctx, t, a.Session.UserID, 100)
	if err != nil {
		return err
	}
	var active []store.Agent
	for _, ag := range agents {
		if ag.Active() {
			active = append(active, ag)
		}
	}
	p := h.page(c, "Chat", chatIndexData{Agents: active, Conversations: convs, Provider: h.llmOn})
	p.Form = f
	return h.render(c, status, "chat", "content", p)
}

// chatCreate is POST /chat (agent_id): a new conversation, 303 to it.
func (h *Handler) chatCreate(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	agentID := c.PostForm("agent_id")
	conv, err := h.store.CreateConversation(ctx, t, a.Session.UserID, agentID)
	var v *store.ValidationError
	if errors.As(err, &v) {
		f := views.NewForm()
		f.Values["agent_id"] = agentID
		f.Errors = v.Fields
		return h.renderChatIndex(c, http.StatusUnprocessableEntity, f)
	} else if err != nil {
		return err
	}
	return redirect(c, "/chat/"+conv.ID)
}
