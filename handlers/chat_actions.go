package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// chatActionConfirm is POST /chat/:id/actions/:action_id/confirm
// (idempotency_key): the proposal becomes the directive the rest of the
// app makes for that change, with the same role rule (403 for a member
// confirming an install, uninstall or lock). htmx gets the card back,
// which then follows the directive; a plain post gets a 303 to the card.
func (h *Handler) chatActionConfirm(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	convID, actionID := c.Param("id"), c.Param("action_id")
	act, _, err := h.store.ConfirmChatAction(ctx, t, store.ConfirmChatAction{
		ConversationID: convID, ActionID: actionID, UserID: a.Session.UserID, IsAdmin: a.Member.IsAdmin(),
		IdempotencyKey: c.PostForm("idempotency_key"),
	})
	var v *store.ValidationError
	if errors.As(err, &v) {
		msg := validationText(v)
		if isHTMX(c) {
			card := h.chatActionOf(ctx, t, act, a.Member.IsAdmin())
			card.Error = msg
			return h.writeCard(c, http.StatusUnprocessableEntity, card)
		}
		f := views.NewForm()
		f.Errors[""] = "Could not confirm: " + msg
		return h.renderConversation(c, http.StatusUnprocessableEntity, "layout", f)
	} else if err != nil {
		return err
	}
	if isHTMX(c) {
		return h.writeCard(c, http.StatusOK, h.chatActionOf(ctx, t, act, a.Member.IsAdmin()))
	}
	h.flash(c, "info", "Confirmed: "+act.Summary+". It is being carried out.")
	return redirect(c, "/chat/"+convID+"#chat-action-"+act.ID)
}

// chatAction is GET /chat/:id/actions/:action_id: the card alone, which
// a pending card polls; a plain request goes to the conversation.
func (h *Handler) chatAction(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	conv, err := h.store.Conversation(ctx, t, a.Session.UserID, c.Param("id"))
	if err != nil {
		return err
	}
	act, err := h.store.ChatAction(ctx, t, conv.ID, c.Param("action_id"))
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		c.Redirect(http.StatusSeeOther, "/chat/"+conv.ID+"#chat-action-"+act.ID)
		return nil
	}
	return h.writeCard(c, http.StatusOK, h.chatActionOf(ctx, t, act, a.Member.IsAdmin()))
}

func (h *Handler) writeCard(c *gin.Context, status int, v chatActionView) error {
	c.Header("Vary", "HX-Request")
	c.Data(status, "text/html; charset=utf-8", h.renderChat("chat_action", v))
	return nil
}
