package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// chatNamedKey carries chat_named's out-of-band swaps to chatFragment.
const chatNamedKey = "chat.named"

// chatFragment writes bubbles for htmx to append.
func (h *Handler) chatFragment(c *gin.Context, status int, conv store.Conversation, msgs ...store.ChatMessage) error {
	var out []byte
	for _, m := range msgs {
		out = append(out, h.renderChat("chat_message", h.chatMessageOf(conv, m, nil))...)
	}
	if named, ok := c.Get(chatNamedKey); ok {
		out = append(out, named.([]byte)...)
	}
	c.Header("Vary", "HX-Request")
	c.Data(status, "text/html; charset=utf-8", out)
	return nil
}
