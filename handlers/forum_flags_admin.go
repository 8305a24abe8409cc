package handlers

import (
	"context"
	"fmt"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// The moderation queue (SPEC §16): GET /admin/flags lists the posts
// members flagged, oldest first, with who flagged them and why;
// POST /admin/flags/:id (status = reviewed | dismissed | action_taken)
// closes every open flag of the post together. ?status=reviewed lists
// what was reviewed, latest first.

// adminFlagsData is the queue page's list.
type adminFlagsData struct {
	Posts     []store.FlaggedPost
	Reviewed  bool // the reviewed list, not the open queue
	Pager     store.Pager
	Open      int // posts waiting
	Threshold int
}

// PageURL is the address of page n of this list.
func (d adminFlagsData) PageURL(n int) string {
	if d.Reviewed {
		return fmt.Sprintf("/admin/flags?status=reviewed&page=%d", n)
	}
	return fmt.Sprintf("/admin/flags?page=%d", n)
}

// Excerpt is the start of a flagged post.
func (adminFlagsData) Excerpt(p store.ForumPost) string { return excerpt(p.Content, 240) }

func (h *Handler) adminFlags(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	v := newAdminView(c, "flags")
	v.Section = "forums" // highlighted in the menu
	d := adminFlagsData{Reviewed: v.Q("status") == "reviewed", Threshold: store.FlagsToHide}
	if s := v.Q("status"); s != "" && s != "open" && s != "reviewed" {
		return store.Invalid("status", "is open or reviewed")
	}
	var err error
	if d.Posts, d.Pager, err = h.store.FlagQueue(ctx, t, !d.Reviewed, pageParam(c)); err != nil {
		return err
	}
	if d.Open, err = h.store.OpenFlaggedPosts(ctx, t); err != nil {
		return err
	}
	v.List = d
	return h.adminRender(c, "forum_flags", "Flags", v)
}

// adminFlagReview is POST /admin/flags/:id.
func (h *Handler) adminFlagReview(c *gin.Context) error {
	return h.adminAct(c, "/admin/flags", h.adminFlags, func(ctx context.Context) (string, error) {
		res, err := h.store.ReviewFlags(ctx, tenant(c), authOf(c).Session.UserID, c.Param("id"), c.PostForm("status"))
		if err != nil {
			return "", err
		}
		h.threadChanged(c, res.ThreadID)
		switch {
		case res.Flags == 0:
			return "These flags were already reviewed.", nil
		case res.Hide != "":
			return fmt.Sprintf("%s closed; the post is being hidden.", plural(res.Flags, "flag")), nil
		case res.Restored:
			return fmt.Sprintf("%s closed; the post is visible again.", plural(res.Flags, "flag")), nil
		}
		return fmt.Sprintf("%s closed.", plural(res.Flags, "flag")), nil
	})
}
