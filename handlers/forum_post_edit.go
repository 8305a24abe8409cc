package handlers

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// Editing a post (SPEC §16): GET /forums/posts/:id/edit shows the form
// (for htmx, in place of the post's text), POST saves it with the version
// it replaces kept, GET /forums/posts/:id/revisions shows the history.

// forumPostEditData is the edit page.
type forumPostEditData struct {
	Post   store.ForumPost
	Thread store.ForumThread
	// Revision is the version the form edits (its hidden field).
	Revision int
	// CurrentHTML is the post as it is now, shown beside a form refused
	// because someone edited it meanwhile.
	CurrentHTML template.HTML
	// Refusal says why this viewer may not edit the post now.
	Refusal string
}

// editablePost reads the post and its thread for the editor: a post the
// viewer may not see is not found, one they may not touch forbidden.
func (h *Handler) editablePost(c *gin.Context) (store.ForumPost, store.ForumThread, error) {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	p, err := h.store.ForumPost(ctx, t, c.Param("id"))
	if err != nil {
		return p, store.ForumThread{}, err
	}
	if !p.Visible() && !a.Member.IsAdmin() {
		return p, store.ForumThread{}, store.ErrNotFound
	}
	th, err := h.store.ForumThread(ctx, t, p.ThreadID)
	return p, th, err
}

func (h *Handler) forumPostEditPage(c *gin.Context) error {
	p, th, err := h.editablePost(c)
	if err != nil {
		return err
	}
	a := authOf(c)
	d := &forumPostEditData{Post: p, Thread: th, Revision: p.Revision}
	status := http.StatusOK
	if err := store.CanEditPost(p, th, a.Session.UserID, a.Member.IsAdmin()); errors.Is(err, store.ErrForbidden) {
		return err
	} else if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		d.Refusal, status = validationText(v), http.StatusUnprocessableEntity
	} else if err != nil {
		return err
	}
	f := views.NewForm()
	f.Values["body"] = p.Content
	return h.renderEdit(c, status, d, f)
}

func (h *Handler) renderEdit(c *gin.Context, status int, d *forumPostEditData, f *views.Form) error {
	p := h.page(c, "Edit post", d)
	p.Form = f
	block := "post_edit_form"
	if d.Refusal != "" {
		block = "content"
	}
	return h.render(c, status, "forum_post_edit", block, p)
}
