package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

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
