package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// adminOverview is GET /admin: the organization at a glance, with a way
// into each table.
type adminOverview struct {
	Figures   store.DashboardFigures
	Members   int
	Jobs      jobs.Stats
	FailedDir int
}

func (h *Handler) adminHome(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	var d adminOverview
	var err error
	if d.Figures, err = h.store.Dashboard(ctx, t); err != nil {
		return err
	}
	if d.Jobs, err = jobs.Count(ctx, h.store.DB, t.Schema()); err != nil {
		return err
	}
	if d.Members, err = h.store.CountMembers(ctx, t.OrgID); err != nil {
		return err
	}
	d.FailedDir = d.Figures.DirectivesByStatus[store.DirectiveFailed]
	v := newAdminView(c, "overview")
	v.List = d
	return h.adminRender(c, "admin", "Admin", v)
}
