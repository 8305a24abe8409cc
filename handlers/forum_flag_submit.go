package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// forumFlag is POST /forums/posts/:id/flag (reason, note): 303 back to
// the thread with a thank-you, or the form again with its message (422).
func (h *Handler) forumFlag(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	f := formOf(c, "reason", "note")
	res, err := h.store.FlagPost(ctx, t, a.Session.UserID, store.NewFlag{PostID: c.Param("id"), Reason: f.Values["reason"], Note: f.Values["note"]})
	if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		f.Errors = v.Fields
		return h.renderFlag(c, http.StatusUnprocessableEntity, f)
	} else if err != nil {
		return err
	}
	h.threadChanged(c, res.Post.ThreadID)
	msg := "Thank you: the moderators will look at this post."
	if res.Hidden {
		msg = "Thank you. Several members flagged this post, so it is hidden until a moderator reviews it."
	}
	h.flash(c, "info", msg)
	if res.Hidden {
		return redirect(c, "/forums/t/"+res.Post.ThreadID)
	}
	to, err := h.postLocation(ctx, t, res.Post, a.Member.IsAdmin())
	if err != nil {
		return err
	}
	return redirect(c, to)
}
