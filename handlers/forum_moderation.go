package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// Moderation requests a directive (SPEC §7): the job runner executes it,
// and its effect, status and signal commit together. The form's hidden
// idempotency_key makes a resent form return the directive it already
// made, while a new render's key makes a new one (lock, unlock, lock).

func (h *Handler) forumThreadLock(c *gin.Context) error {
	return h.moderateThread(c, store.DirectiveThreadLock)
}

func (h *Handler) forumThreadUnlock(c *gin.Context) error {
	return h.moderateThread(c, store.DirectiveThreadUnlock)
}

func (h *Handler) forumThreadPin(c *gin.Context) error {
	return h.moderateThread(c, store.DirectiveThreadPin)
}

func (h *Handler) forumThreadUnpin(c *gin.Context) error {
	return h.moderateThread(c, store.DirectiveThreadUnpin)
}

func (h *Handler) forumPostRestore(c *gin.Context) error {
	return h.moderatePost(c, store.DirectivePostRestore)
}

func (h *Handler) forumPostHide(c *gin.Context) error {
	return h.moderatePost(c, store.DirectivePostHide)
}

func (h *Handler) forumPostUnhide(c *gin.Context) error {
	return h.moderatePost(c, store.DirectivePostUnhide)
}

func (h *Handler) forumPostDelete(c *gin.Context) error {
	return h.moderatePost(c, store.DirectivePostDelete)
}

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

// fragment writes one named block of page, whatever the request: for
// answers that only htmx asks for.
func (h *Handler) fragment(c *gin.Context, page, block string, data any) error {
	c.Header("Vary", "HX-Request")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusOK)
	return h.views.Render(c.Writer, page, block, data)
}
