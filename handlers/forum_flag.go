package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// Flagging a post (SPEC §16): GET /forums/posts/:id/flag asks why, POST
// records the flag (once per member) into the moderators' queue.

// forumFlagData is the flag page.
type forumFlagData struct {
	Post    store.ForumPost
	Thread  store.ForumThread
	Reasons []store.FlagReason
	// Already is the viewer's earlier flag of the post, if any.
	Already *store.Flag
	Own     bool // the viewer wrote the post
	// Threshold is how many open flags hide a post.
	Threshold int
}

func (h *Handler) forumFlagPage(c *gin.Context) error {
	return h.renderFlag(c, http.StatusOK, views.NewForm())
}

func (h *Handler) renderFlag(c *gin.Context, status int, f *views.Form) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	p, err := h.store.ForumPost(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	if !p.Visible() {
		return store.ErrNotFound // flags are for what members can read
	}
	th, err := h.store.ForumThread(ctx, t, p.ThreadID)
	if err != nil {
		return err
	}
	d := forumFlagData{Post: p, Thread: th, Reasons: store.FlagReasons, Own: p.ByUser(a.Session.UserID),
		Threshold: store.FlagsToHide}
	if fl, err := h.store.FlagOf(ctx, t, a.Session.UserID, p.ID); err == nil {
		d.Already = &fl
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	pg := h.page(c, "Flag a post", d)
	pg.Form = f
	return h.render(c, status, "forum_flag", "content", pg)
}
