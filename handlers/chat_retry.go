package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

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
