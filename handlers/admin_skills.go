package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/agent"
	"fleetprompt/store"
)

// skillRow is one skill with its tools as agents get them here.
type skillRow struct {
	store.TenantSkill
	Tools []agent.Tool
}

// adminSkills is GET /admin/skills: the skills catalogue, which of them
// this organization has enabled (packages enable them on install), and
// for each tool whether it works in this installation: a tool that needs
// what is not there (internet, an e-mail provider) says so here and is
// never offered to a model, rather than failing when called.
func (h *Handler) adminSkills(c *gin.Context) error {
	v := newAdminView(c, "skills")
	skills, err := h.store.TenantSkills(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	rows := make([]skillRow, len(skills))
	for i, s := range skills {
		rows[i] = skillRow{TenantSkill: s}
		if h.engine != nil {
			rows[i].Tools = h.engine.Tools().ForSkill(s.Tools)
		} else {
			for _, n := range s.Tools {
				rows[i].Tools = append(rows[i].Tools, agent.Tool{Name: n})
			}
		}
	}
	v.List = rows
	return h.adminRender(c, "admin_skills", "Skills", v)
}
