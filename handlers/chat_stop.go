package handlers

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// chatStop is POST /chat/:id/stop: the answer being written is cancelled
// (the provider request with it) and kept as far as it got.
func (h *Handler) chatStop(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	conv, err := h.store.Conversation(ctx, t, a.Session.UserID, c.Param("id"))
	if err != nil {
		return err
	}
	// The answer is stopped where it is recorded; its run, in this
	// process or another, finds it canceled and keeps what it wrote.
	_, runs, err := h.store.StopChat(ctx, t, a.Session.UserID, conv.ID)
	if err != nil {
		return err
	}
	for _, id := range runs {
		if h.engine != nil {
			h.engine.Cancel(id)
		}
	}
	// Its run keeps what it had written when it settles: wait a moment
	// for that, so the page this answer leads to shows it.
	h.waitSettled(ctx, t, runs, 3*time.Second)
	if isHTMX(c) {
		msgs, err := h.store.ChatMessages(ctx, t, conv.ID)
		if err != nil {
			return err
		}
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Role == store.ChatAssistant {
				v := h.chatMessageOf(conv, msgs[i], nil)
				v.Retry = msgs[i].Status == store.ChatStopped || msgs[i].Status == store.ChatFailed
				acts, err := h.store.ChatActions(ctx, t, conv.ID)
				if err != nil {
					return err
				}
				for _, act := range acts {
					if act.MessageID == msgs[i].ID {
						v.Actions = append(v.Actions, h.chatActionOf(ctx, t, act, a.Member.IsAdmin()))
					}
				}
				c.Header("Content-Type", "text/html; charset=utf-8")
				c.Status(http.StatusOK)
				_, err = c.Writer.Write(h.renderChat("chat_message", v))
				return err
			}
		}
		c.Status(http.StatusNoContent)
		return nil
	}
	return redirect(c, "/chat/"+conv.ID)
}
