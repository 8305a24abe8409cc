package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// adminTenants is GET /admin/tenant: the organizations the user
// administers, with the current one marked and a form to manage another.
// It is open to anyone who is owner or admin somewhere, even while the
// current organization is one where they are a plain member.
func (h *Handler) adminTenants(c *gin.Context) error {
	orgs, err := h.store.AdministeredOrganizations(c.Request.Context(), authOf(c).Session.UserID)
	if err != nil {
		return err
	}
	if len(orgs) == 0 {
		return store.ErrForbidden
	}
	v := newAdminView(c, "tenant")
	v.List = orgs
	return h.adminRender(c, "admin_tenant", "Organizations you administer", v)
}

// adminTenantSelect is POST /admin/tenant (slug): switch the session to
// another organization the user administers, as /org/select does, then
// open its admin. A plain membership there is 403, none at all 404.
func (h *Handler) adminTenantSelect(c *gin.Context) error {
	ctx, a := c.Request.Context(), authOf(c)
	orgs, err := h.store.AdministeredOrganizations(ctx, a.Session.UserID)
	if err != nil {
		return err
	}
	if len(orgs) == 0 {
		return store.ErrForbidden // administers nothing: this page is not for them
	}
	m, err := h.store.SelectAdministeredOrganization(ctx, a.Token, c.PostForm("slug"))
	if err != nil {
		return err
	}
	h.flash(c, "info", "Now managing "+m.OrgName+".")
	return redirect(c, "/admin")
}
