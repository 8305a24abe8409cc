package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

func (h *Handler) moderatePost(c *gin.Context, kind string) error {
	ctx, t := c.Request.Context(), tenant(c)
	p, err := h.store.ForumPost(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	if kind == store.DirectivePostUnhide && p.Status == store.PostDeleted {
		// Delete is final for unhide (SPEC §16): say so now rather than
		// let the directive fail.
		return store.Invalid("", "This post was deleted: unhide does not bring it back. Use “Restore deleted post” to restore it explicitly.")
	}
	_, done, err := h.store.RequestForumModeration(ctx, t, authOf(c).Session.UserID, kind,
		store.ForumModeration{ThreadID: p.ThreadID, PostID: p.ID}, c.PostForm("idempotency_key"))
	if err != nil {
		return err
	}
	h.threadChanged(c, p.ThreadID)
	if !isHTMX(c) {
		if !done {
			h.flash(c, "info", h.dirs.Pending(kind)+": it takes effect in a moment.")
		}
		return redirect(c, localPath(c.PostForm("redirect_to"), "/forums/t/"+p.ThreadID+"#post-"+p.ID))
	}
	if p, err = h.store.ForumPost(ctx, t, p.ID); err != nil {
		return err
	}
	th, err := h.store.ForumThread(ctx, t, p.ThreadID)
	if err != nil {
		return err
	}
	v := postView(p, th, true)
	if !done {
		v.Pending = h.dirs.Pending(kind)
	}
	return h.writeResolved(c, http.StatusOK, "forum_post", v)
}
