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

// chatNoJSWait is how long a plain (no JavaScript) post waits for the
// answer before its 303, so a quick answer is on the page it lands on; a
// slower one shows as far as it got, with a Reload link.
const chatNoJSWait = 3 * time.Second

// chatSend is POST /chat/:id/messages (body): the message is stored and
// the answer starts. htmx gets the two bubbles to append (the answer's
// text then streams into it over SSE); a plain post gets a 303 to the
// conversation. An empty message is a 422 with the input kept.
func (h *Handler) chatSend(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	conv, err := h.store.Conversation(ctx, t, a.Session.UserID, c.Param("id"))
	if err != nil {
		return err
	}
	body := c.PostForm("body")
	turn, err := h.store.SendChatMessage(ctx, t, a.Session.UserID, conv.ID, body)
	var v *store.ValidationError
	if errors.As(err, &v) {
		f := views.NewForm()
		f.Values["body"] = body
		f.Errors = v.Fields
		return h.composerInvalid(c, f)
	} else if err != nil {
		return err
	}
	h.answerFor(t, conv, a.Session.UserID, a.Member.IsAdmin(), turn.Assistant, &turn.User)
	if isHTMX(c) {
		return h.chatFragment(c, http.StatusOK, conv, turn.User, turn.Assistant)
	}
	h.waitAnswer(ctx, conv.ID, chatNoJSWait)
	return redirect(c, "/chat/"+conv.ID+"#chat-msg-"+turn.Assistant.ID)
}

// composerInvalid answers a refused post: the composer with its message
// (in place for htmx), or the whole page, with 422.
func (h *Handler) composerInvalid(c *gin.Context, f *views.Form) error {
	if isHTMX(c) {
		// The form targets the message list on success; a refusal
		// replaces the form itself instead.
		c.Header("HX-Retarget", "#chat-form")
		c.Header("HX-Reswap", "outerHTML")
		return h.renderConversation(c, http.StatusUnprocessableEntity, "chat_composer", f)
	}
	return h.renderConversation(c, http.StatusUnprocessableEntity, "layout", f)
}

// chatFragment writes bubbles for htmx to append.
func (h *Handler) chatFragment(c *gin.Context, status int, conv store.Conversation, msgs ...store.ChatMessage) error {
	var out []byte
	for _, m := range msgs {
		out = append(out, h.renderChat("chat_message", h.chatMessageOf(conv, m, nil))...)
	}
	c.Header("Vary", "HX-Request")
	c.Data(status, "text/html; charset=utf-8", out)
	return nil
}

// waitAnswer waits up to d for the conversation's answer in this
// process to finish.
func (h *Handler) waitAnswer(ctx context.Context, conversationID string, d time.Duration) {
	h.chat.mu.Lock()
	a := h.chat.running[conversationID]
	h.chat.mu.Unlock()
	if a == nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-a.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// chatStop is POST /chat/:id/stop: the answer being written is cancelled
// (the provider request with it) and kept as far as it got.
func (h *Handler) chatStop(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	conv, err := h.store.Conversation(ctx, t, a.Session.UserID, c.Param("id"))
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	h.stopAnswer(wctx, conv.ID)
	cancel()
	// An answer written by another process (or left behind) is settled
	// here; that process finds it stopped and keeps it so.
	if _, err := h.store.StopChat(ctx, t, a.Session.UserID, conv.ID); err != nil {
		return err
	}
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

// chatRetry is POST /chat/:id/retry: a new answer after a failed or
// stopped one, which stays in the history.
func (h *Handler) chatRetry(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	conv, err := h.store.Conversation(ctx, t, a.Session.UserID, c.Param("id"))
	if err != nil {
		return err
	}
	msg, err := h.store.RetryChat(ctx, t, a.Session.UserID, conv.ID)
	var v *store.ValidationError
	if errors.As(err, &v) {
		f := views.NewForm()
		f.Errors = v.Fields
		if f.Errors[""] == "" {
			f.Errors[""] = validationText(v)
		}
		return h.composerInvalid(c, f)
	} else if err != nil {
		return err
	}
	h.answerFor(t, conv, a.Session.UserID, a.Member.IsAdmin(), msg, nil)
	if isHTMX(c) {
		return h.chatFragment(c, http.StatusOK, conv, msg)
	}
	h.waitAnswer(ctx, conv.ID, chatNoJSWait)
	return redirect(c, "/chat/"+conv.ID+"#chat-msg-"+msg.ID)
}
