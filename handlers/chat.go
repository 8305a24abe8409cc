package handlers

import (
	"context"
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

// chatPageData is the data of a conversation's page.
type chatPageData struct {
	Conv          store.Conversation
	Conversations []store.Conversation
	Messages      []chatMessageView
	// Seq is the tenant's signal seq when the page was read: its live
	// stream resumes after it.
	Seq int64
	// Answering: an answer is streaming (the composer says so; the page
	// without JavaScript offers a reload).
	Answering bool
	Provider  bool
	IsAdmin   bool
}

// chatShow is GET /chat/:id: the history, live.
func (h *Handler) chatShow(c *gin.Context) error {
	return h.renderConversation(c, http.StatusOK, "layout", views.NewForm())
}

// renderConversation renders the conversation page (block "layout" or a
// fragment) with the composer's form f.
func (h *Handler) renderConversation(c *gin.Context, status int, block string, f *views.Form) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	d, err := h.conversationData(ctx, t, a, c.Param("id"))
	if err != nil {
		return err
	}
	p := h.page(c, d.Conv.DisplayTitle(), d)
	p.Form = f
	if block == "layout" {
		return h.render(c, status, "chat_conversation", "content", p)
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	return h.views.Render(c.Writer, "chat_conversation", block, p)
}

func (h *Handler) conversationData(ctx context.Context, t store.Tenant, a *auth, id string) (chatPageData, error) {
	conv, err := h.store.Conversation(ctx, t, a.Session.UserID, id)
	if err != nil {
		return chatPageData{}, err
	}
	// Read before the messages, so an event racing this read is sent
	// again (and skipped by element id), never lost.
	seq, err := h.store.LatestSignalSeq(ctx, t)
	if err != nil {
		return chatPageData{}, err
	}
	if err := h.store.FailStaleChat(ctx, t, conv.ID, chatStaleAfter); err != nil {
		return chatPageData{}, err
	}
	msgs, err := h.store.ChatMessages(ctx, t, conv.ID)
	if err != nil {
		return chatPageData{}, err
	}
	acts, err := h.store.ChatActions(ctx, t, conv.ID)
	if err != nil {
		return chatPageData{}, err
	}
	convs, err := h.store.Conversations(ctx, t, a.Session.UserID, 30)
	if err != nil {
		return chatPageData{}, err
	}
	byMsg := map[string][]chatActionView{}
	var orphans []chatActionView
	for _, act := range acts {
		v := h.chatActionOf(ctx, t, act, a.Member.IsAdmin())
		if act.MessageID == "" {
			orphans = append(orphans, v)
			continue
		}
		byMsg[act.MessageID] = append(byMsg[act.MessageID], v)
	}
	d := chatPageData{Conv: conv, Conversations: convs, Seq: seq, Provider: h.llmOn, IsAdmin: a.Member.IsAdmin()}
	for _, m := range msgs {
		d.Messages = append(d.Messages, h.chatMessageOf(conv, m, byMsg[m.ID]))
		d.Answering = d.Answering || m.Streaming()
	}
	if n := len(d.Messages); n > 0 {
		last := &d.Messages[n-1]
		last.Retry = last.Msg.Role == store.ChatAssistant && (last.Msg.Status == store.ChatFailed || last.Msg.Status == store.ChatStopped)
		last.Actions = append(last.Actions, orphans...)
	}
	return d, nil
}
