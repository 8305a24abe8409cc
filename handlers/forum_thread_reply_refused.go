package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// replyRefused answers a refused reply with status: the thread page again
// with the message and the text kept, or for htmx the form in place.
func (h *Handler) replyRefused(c *gin.Context, status int, body string, v *store.ValidationError) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	f := views.NewForm()
	f.Values["body"] = body
	f.Errors = v.Fields
	d, err := h.threadData(ctx, t, c.Param("id"), lastPage, a.Member.IsAdmin(), store.AuditCursor{}, "")
	if err != nil {
		return err
	}
	p := &views.Page{Data: d, Form: f}
	if isHTMX(c) {
		// The form targets #posts for success; a refused reply replaces
		// the form itself instead.
		c.Header("HX-Retarget", "#reply-form")
		c.Header("HX-Reswap", "outerHTML")
		markup, err := h.renderBlock("reply_form", p)
		if err != nil {
			return err
		}
		c.Header("Vary", "HX-Request")
		c.Data(status, "text/html; charset=utf-8", []byte(stampKeys(markup)))
		return nil
	}
	tc, err := h.threadContent(t.Schema(), p)
	if err != nil {
		return err
	}
	return h.writeThread(c, status, tc)
}
