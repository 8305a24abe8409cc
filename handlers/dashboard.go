package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// dashboardPage is the dashboard: the organization's own figures (never
// global counts), for owners and admins the failed directives that need
// someone's attention, and the live activity feed (dashboardData, kept by
// the live layer in dashboard_activity.go).
type dashboardPage struct {
	dashboardData
	Figures store.DashboardFigures
	// Failed is the latest failed directives; owners and admins only.
	Failed      []store.Directive
	FailedTotal int
	IsAdmin     bool
	// Chart is the last 30 days of activity.
	Chart views.BarChart
}

// AgentStates and the others list each figure's keys in lifecycle order.
func (dashboardPage) AgentStates() []string { return store.AgentStates }

// InstallationStatuses lists installation statuses in lifecycle order.
func (dashboardPage) InstallationStatuses() []string { return store.InstallationStatuses }

// DirectiveStatuses lists directive statuses in lifecycle order.
func (dashboardPage) DirectiveStatuses() []string { return store.DirectiveStatuses }

func (h *Handler) dashboard(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	d := dashboardPage{IsAdmin: authOf(c).Member.IsAdmin()}
	var err error
	if d.Activity, err = h.loadActivity(ctx, t, d.IsAdmin); err != nil {
		return err
	}
	if d.Figures, err = h.store.Dashboard(ctx, t); err != nil {
		return err
	}
	if d.Chart, err = h.activityChart(ctx, t); err != nil {
		return err
	}
	if d.IsAdmin {
		d.FailedTotal = d.Figures.DirectivesByStatus[store.DirectiveFailed]
		if d.FailedTotal > 0 {
			page, err := h.store.ListDirectives(ctx, t, store.DirectiveFilter{Status: store.DirectiveFailed, Limit: 5})
			if err != nil {
				return err
			}
			d.Failed = page.Directives
		}
	}
	return h.render(c, http.StatusOK, "dashboard", "content", h.page(c, "Dashboard", d))
}
