package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

func (h *Handler) moderateThread(c *gin.Context, kind string) error {
	ctx, t := c.Request.Context(), tenant(c)
	th, err := h.store.ForumThread(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	_, done, err := h.store.RequestForumModeration(ctx, t, authOf(c).Session.UserID, kind,
		store.ForumModeration{ThreadID: th.ID}, c.PostForm("idempotency_key"))
	if err != nil {
		return err
	}
	h.threadChanged(c, th.ID) // the directive's row is in its trail
	if !isHTMX(c) {
		if !done {
			h.flash(c, "info", h.dirs.Pending(kind)+": it takes effect in a moment.")
		}
		// The admin console's forms send where to come back to.
		return redirect(c, localPath(c.PostForm("redirect_to"), "/forums/t/"+th.ID))
	}
	// In place: the status as it is now, with the request noted until the
	// directive's signal updates it (live) or the page is reloaded.
	if th, err = h.store.ForumThread(ctx, t, th.ID); err != nil {
		return err
	}
	v := threadStatusView{Thread: th, Moderator: true}
	if !done {
		v.Pending = h.dirs.Pending(kind)
	}
	return h.fragment(c, "forum_thread", "thread_status", v)
}
