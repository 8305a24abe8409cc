package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// forumDebug is the ?fp_debug=1 panel's data on the forum create pages.
type forumDebug struct {
	TenantSchema string
	Values       map[string]string
	Errors       map[string]string
	CanSubmit    bool
}

// forumFormData is what the category and thread forms render besides the
// Form: the categories to choose from and the debug panel.
type forumFormData struct {
	Categories []store.ForumCategory // active ones: the thread form's choices
	Admin      bool
	Archived   int // archived categories left out of the choices
	DebugInfo  *forumDebug
}

func (h *Handler) forumCategoryNew(c *gin.Context) error {
	return h.renderCategoryForm(c, http.StatusOK, "content", views.NewForm())
}

func (h *Handler) forumCategoryCreate(c *gin.Context) error {
	n := store.NewForumCategory{Name: c.PostForm("name"), Slug: c.PostForm("slug"), Description: c.PostForm("description")}
	f := views.NewForm()
	f.Values = map[string]string{"name": n.Name, "slug": n.Slug, "description": n.Description}
	cat, err := h.store.CreateForumCategory(c.Request.Context(), tenant(c), authOf(c).Session.UserID, n)
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		return h.renderCategoryForm(c, http.StatusUnprocessableEntity, "category_form", f)
	} else if err != nil {
		return err
	}
	h.flash(c, "info", "Category "+cat.Name+" created.")
	return redirect(c, "/forums/c/"+cat.Slug)
}

func (h *Handler) renderCategoryForm(c *gin.Context, status int, fragment string, f *views.Form) error {
	d := forumFormData{Admin: true}
	p := h.page(c, "New category", &d)
	p.Form = f
	p.Debug = c.Query("fp_debug") == "1"
	if p.Debug {
		d.DebugInfo = &forumDebug{TenantSchema: tenant(c).Schema(), Values: f.Values, Errors: f.Errors, CanSubmit: !f.Invalid()}
	}
	return h.render(c, status, "forum_category_new", fragment, p)
}
