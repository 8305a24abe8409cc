package handlers

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"

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

// forumPostRevisionsData is the history page.
type forumPostRevisionsData struct {
	Post      store.ForumPost
	Thread    store.ForumThread
	Revisions []revisionView
}

type revisionView struct {
	store.PostRevision
	Body template.HTML
}

// forumPostRevisions is GET /forums/posts/:id/revisions: every version
// of a post members can read (moderators: of any post).
func (h *Handler) forumPostRevisions(c *gin.Context) error {
	p, th, err := h.editablePost(c)
	if err != nil {
		return err
	}
	revs, err := h.store.PostRevisions(c.Request.Context(), tenant(c), p)
	if err != nil {
		return err
	}
	d := forumPostRevisionsData{Post: p, Thread: th}
	for _, r := range revs {
		d.Revisions = append(d.Revisions, revisionView{PostRevision: r, Body: template.HTML(r.HTML)}) //nolint:gosec // the renderer's output, stored
	}
	return h.render(c, http.StatusOK, "forum_post_revisions", "content", h.page(c, "History of a post", d))
}
