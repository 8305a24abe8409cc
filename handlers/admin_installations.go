package handlers

import (
	"context"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// adminInstallationsData is the installations table.
type adminInstallationsData struct {
	Installations []store.Installation
	Statuses      []string
}

// adminInstallations is GET /admin/installations?status=&after=.
func (h *Handler) adminInstallations(c *gin.Context) error {
	v := newAdminView(c, "installations")
	page, err := h.store.AdminInstallations(c.Request.Context(), tenant(c), store.InstallationFilter{Status: v.Q("status"), After: v.Q("after"), Limit: v.Limit()})
	if err != nil {
		return err
	}
	v.pageLinks("/admin/installations", "after", page.Next)
	v.List = adminInstallationsData{Installations: page.Installations, Statuses: store.InstallationStatuses}
	return h.adminRender(c, "admin_installations", "Installations", v)
}

// adminInstallationEnable is POST /admin/installations/:id/enable.
func (h *Handler) adminInstallationEnable(c *gin.Context) error { return h.switchInstallation(c, true) }

// adminInstallationDisable is POST /admin/installations/:id/disable.
func (h *Handler) adminInstallationDisable(c *gin.Context) error {
	return h.switchInstallation(c, false)
}

func (h *Handler) switchInstallation(c *gin.Context, enabled bool) error {
	return h.adminAct(c, "/admin/installations", h.adminInstallations, func(ctx context.Context) (string, error) {
		in, err := h.store.SetInstallationEnabled(ctx, tenant(c), authOf(c).Session.UserID, c.Param("id"), enabled)
		if err != nil {
			return "", err
		}
		if enabled {
			return in.PackageName + " is enabled.", nil
		}
		return in.PackageName + " is disabled.", nil
	})
}
