package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// forumPostEdit is POST /forums/posts/:id/edit (body, revision).
func (h *Handler) forumPostEdit(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	body := c.PostForm("body")
	base, _ := strconv.Atoi(c.PostForm("revision"))
	res, err := h.store.EditPost(ctx, t, a.Session.UserID, a.Member.IsAdmin(), store.PostEdit{PostID: c.Param("id"), Body: body, BaseRevision: base})
	if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		p, th, err := h.editablePost(c)
		if err != nil {
			return err
		}
		d := &forumPostEditData{Post: p, Thread: th, Revision: base}
		f := views.NewForm()
		f.Values["body"], f.Errors = body, v.Fields
		if _, conflict := v.Fields["revision"]; conflict {
			// Saving again means "mine wins, having seen theirs".
			d.Revision, d.CurrentHTML = p.Revision, p.HTML()
		}
		if _, ok := v.Fields["body"]; !ok && len(v.Fields) == 1 && v.Fields[""] != "" {
			d.Refusal = v.Fields[""] // the post can no longer be edited at all
		}
		return h.renderEdit(c, http.StatusUnprocessableEntity, d, f)
	} else if err != nil {
		return err
	}
	h.threadChanged(c, res.Post.ThreadID)
	if isHTMX(c) {
		return h.writeResolved(c, http.StatusOK, "post_content", postView(res.Post, res.Thread, a.Member.IsAdmin()))
	}
	if res.Changed {
		h.flash(c, "info", "Your changes are saved; the earlier version is in the post's history.")
	}
	to, err := h.postLocation(ctx, t, res.Post, a.Member.IsAdmin())
	if err != nil {
		return err
	}
	return redirect(c, to)
}
