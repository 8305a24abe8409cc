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
	if isHTMX(c) {
		if conv.Title == "" {
			// The first message named the conversation: the page's
			// heading and list say so at once, not after a reload.
			named, err := h.store.Conversation(ctx, t, a.Session.UserID, conv.ID)
			if err != nil {
				return err
			}
			c.Set(chatNamedKey, h.renderChat("chat_named", named))
		}
		return h.chatFragment(c, http.StatusOK, conv, turn.User, turn.Assistant)
	}
	h.waitAnswer(ctx, t, conv.ID, turn.Assistant.ID, chatNoJSWait)
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

// waitAnswer waits up to d for an answer to finish (whichever worker
// writes it), so a quick one is on the page a plain post lands on.
func (h *Handler) waitAnswer(ctx context.Context, t store.Tenant, conversationID, msgID string, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		m, err := h.store.ChatMessage(ctx, t, conversationID, msgID)
		if err != nil || !m.Streaming() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitSettled waits up to d for runs to record their outcome.
func (h *Handler) waitSettled(ctx context.Context, t store.Tenant, runs []string, d time.Duration) {
	deadline := time.Now().Add(d)
	for _, id := range runs {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			ex, err := h.store.Execution(ctx, t, id)
			if err != nil || ex.SettledAt.Valid {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
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
	if isHTMX(c) {
		return h.chatFragment(c, http.StatusOK, conv, msg)
	}
	h.waitAnswer(ctx, t, conv.ID, msg.ID, chatNoJSWait)
	return redirect(c, "/chat/"+conv.ID+"#chat-msg-"+msg.ID)
}
