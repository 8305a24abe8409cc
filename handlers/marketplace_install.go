package handlers

import "github.com/gin-gonic/gin"

// marketplaceInstall asks for a package.install directive (owner/admin).
func (h *Handler) marketplaceInstall(c *gin.Context) error {
	return h.requestPackageDirective(c, false)
}

// marketplaceUninstall asks for a package.uninstall directive (owner/admin);
// purge also removes the agents the package created.
func (h *Handler) marketplaceUninstall(c *gin.Context) error {
	if formBool(c.PostForm("purge")) && !formBool(c.PostForm("confirmed")) {
		return h.uninstallConfirm(c)
	}
	return h.requestPackageDirective(c, true)
}

func (h *Handler) renderInstallStatus(c *gin.Context, status int, s InstallStatus) error {
	c.Header("Vary", "HX-Request")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	return h.views.Render(c.Writer, "marketplace", "install_status", s)
}

// formBool reads a checkbox: present with any of the usual "on" values.
func formBool(v string) bool {
	switch v {
	case "1", "on", "true", "yes":
		return true
	}
	return false
}
