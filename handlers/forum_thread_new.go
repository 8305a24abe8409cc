package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// forumThreadNew shows the new-thread form; ?category_id= preselects a
// category. Without any active category the page says so instead and
// links to creating one.
func (h *Handler) forumThreadNew(c *gin.Context) error {
	f := views.NewForm()
	if id := c.Query("category_id"); id != "" {
		f.Values["category_id"] = id
	}
	return h.renderThreadForm(c, http.StatusOK, "content", f)
}

func (h *Handler) forumThreadCreate(c *gin.Context) error {
	n := store.NewForumThread{CategoryID: c.PostForm("category_id"), Title: c.PostForm("title"), Body: c.PostForm("body")}
	f := views.NewForm()
	f.Values = map[string]string{"category_id": n.CategoryID, "title": n.Title, "body": n.Body}
	th, _, err := h.store.CreateForumThread(c.Request.Context(), tenant(c), authOf(c).Session.UserID, n)
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		return h.renderThreadForm(c, http.StatusUnprocessableEntity, "thread_form", f)
	} else if err != nil {
		return err
	}
	return redirect(c, "/forums/t/"+th.ID)
}

func (h *Handler) renderThreadForm(c *gin.Context, status int, fragment string, f *views.Form) error {
	all, err := h.store.ForumCategories(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	d := forumFormData{Admin: authOf(c).Member.IsAdmin()}
	for _, cat := range all {
		if cat.Archived() {
			d.Archived++
			continue
		}
		d.Categories = append(d.Categories, cat)
	}
	p := h.page(c, "New thread", &d)
	p.Form = f
	p.Debug = c.Query("fp_debug") == "1"
	if p.Debug {
		d.DebugInfo = &forumDebug{TenantSchema: tenant(c).Schema(), Values: f.Values, Errors: f.Errors,
			CanSubmit: len(d.Categories) > 0 && !f.Invalid()}
	}
	return h.render(c, status, "forum_thread_new", fragment, p)
}
