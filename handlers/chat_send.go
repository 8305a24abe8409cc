package handlers

import (
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
