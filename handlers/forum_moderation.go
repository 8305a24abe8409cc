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

// fragment writes one named block of page, whatever the request: for
// answers that only htmx asks for.
func (h *Handler) fragment(c *gin.Context, page, block string, data any) error {
	c.Header("Vary", "HX-Request")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusOK)
	return h.views.Render(c.Writer, page, block, data)
}
