package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// forumPostReact is POST /forums/posts/:id/react (kind; had, the kinds
// the form showed as chosen): toggles one reaction (SPEC §16). Without
// JavaScript: 303 back to the post; with htmx: the post's reactions, as
// the reactor now sees them. A refusal (your own post, a hidden one) is a
// 422 saying why.
func (h *Handler) forumPostReact(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	kind := c.PostForm("kind")
	r := store.Reaction{PostID: c.Param("id"), Kind: kind}
	if had, ok := c.GetPostFormArray("had"); ok {
		chosen := slices.Contains(had, kind)
		r.Had = &chosen
	}
	res, err := h.store.React(ctx, t, a.Session.UserID, a.Member.IsAdmin(), r)
	if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		if !isHTMX(c) {
			return h.refuse(c, v)
		}
		p, err := h.store.ForumPost(ctx, t, r.PostID)
		if err != nil {
			return err
		}
		th, err := h.store.ForumThread(ctx, t, p.ThreadID)
		if err != nil {
			return err
		}
		pv := postView(p, th, a.Member.IsAdmin())
		pv.Error = validationText(v)
		return h.writeResolved(c, http.StatusUnprocessableEntity, "post_reactions", pv)
	} else if err != nil {
		return err
	}
	h.threadChanged(c, res.Post.ThreadID)
	if isHTMX(c) {
		return h.writeResolved(c, http.StatusOK, "post_reactions", postView(res.Post, res.Thread, a.Member.IsAdmin()))
	}
	to, err := h.postLocation(ctx, t, res.Post, a.Member.IsAdmin())
	if err != nil {
		return err
	}
	return redirect(c, to)
}

// postLocation is where p is for its reader: the page of its thread it is
// on, anchored at it.
func (h *Handler) postLocation(ctx context.Context, t store.Tenant, p store.ForumPost, moderator bool) (string, error) {
	page, err := h.store.PostPage(ctx, t, p, moderator)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("/forums/t/%s?page=%d#post-%s", p.ThreadID, page, p.ID), nil
}

// refuse answers a refused button that has no form page of its own (a
// reaction, a solve) with the reason in words and a way back: 422.
func (h *Handler) refuse(c *gin.Context, v *store.ValidationError) error {
	page := errorPage{http.StatusUnprocessableEntity, "That did not work", validationText(v)}
	return h.render(c, page.Status, "error", "content", h.page(c, page.Heading, page))
}
