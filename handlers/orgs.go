package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

func (h *Handler) orgNewPage(c *gin.Context) error {
	p := h.page(c, "New organization", nil)
	p.Form = views.NewForm()
	return h.render(c, http.StatusOK, "org_new", "content", p)
}

// orgCreate makes another organization owned by the signed-in user and
// switches the session to it.
func (h *Handler) orgCreate(c *gin.Context) error {
	a := authOf(c)
	f := views.NewForm()
	f.Values["org_name"], f.Values["org_slug"] = c.PostForm("org_name"), c.PostForm("org_slug")
	org, err := h.store.CreateOrganization(c.Request.Context(), a.Session.UserID, f.Values["org_name"], f.Values["org_slug"])
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		p := h.page(c, "New organization", nil)
		p.Form = f
		return h.render(c, http.StatusUnprocessableEntity, "org_new", "org_form", p)
	} else if err != nil {
		return err
	}
	if _, err := h.store.SelectOrganization(c.Request.Context(), a.Token, org.Slug); err != nil {
		return err
	}
	h.sessionChanged(c.Request.Context(), a.Token)
	h.flash(c, "info", org.Name+" is ready; you are its owner.")
	return redirect(c, "/dashboard")
}

// orgSelect switches the session's organization among the user's active
// memberships; any other slug is a 404, as if it did not exist.
func (h *Handler) orgSelect(c *gin.Context) error {
	m, err := h.store.SelectOrganization(c.Request.Context(), authOf(c).Token, c.PostForm("slug"))
	if err != nil {
		return err
	}
	h.sessionChanged(c.Request.Context(), authOf(c).Token)
	h.flash(c, "info", "Now working in "+m.OrgName+".")
	return redirect(c, localPath(c.PostForm("redirect_to"), "/dashboard"))
}
