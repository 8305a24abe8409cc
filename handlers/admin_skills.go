package handlers

import (
	"github.com/gin-gonic/gin"
)

// adminSkills is GET /admin/skills: the skills catalogue and which of them
// this organization has enabled (packages enable them on install).
func (h *Handler) adminSkills(c *gin.Context) error {
	v := newAdminView(c, "skills")
	skills, err := h.store.TenantSkills(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	v.List = skills
	return h.adminRender(c, "admin_skills", "Skills", v)
}
