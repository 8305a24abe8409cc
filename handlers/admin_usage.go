package handlers

import (
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// adminUsageData is GET /admin/usage: tokens and cost per day for the
// last 30 days (a chart) and per agent (a table), against the month's
// limit.
type adminUsageData struct {
	Chart      views.BarChart
	Agents     []store.UsageRow
	MonthUsed  int64
	MonthLimit int64
	Total      store.UsageRow
}

// Percent is the share of the month's limit used.
func (d adminUsageData) Percent() int64 {
	if d.MonthLimit <= 0 {
		return 0
	}
	return min(100, d.MonthUsed*100/d.MonthLimit)
}

// usageSeries is how many agents get their own colour; the rest stack as
// "Other agents".
const usageSeries = 5

var usageClasses = []string{"s-forum", "s-package", "s-agent", "s-member", "s-directive"}

func (h *Handler) adminUsage(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	now := time.Now()
	days, err := h.store.UsageDays(ctx, t, activityDays, now)
	if err != nil {
		return err
	}
	d := adminUsageData{}
	if d.Agents, err = h.store.UsageByAgent(ctx, t, days[0].Day); err != nil {
		return err
	}
	if d.MonthUsed, err = h.store.MonthTokens(ctx, t, now); err != nil {
		return err
	}
	if d.MonthLimit, err = h.store.TokenLimit(ctx, t); err != nil {
		return err
	}
	for _, a := range d.Agents {
		d.Total.Executions += a.Executions
		d.Total.PromptTokens += a.PromptTokens
		d.Total.CompletionTokens += a.CompletionTokens
		d.Total.Cost += a.Cost
	}
	d.Chart = usageChart(days, d.Agents)
	v := newAdminView(c, "usage")
	v.List = d
	return h.adminRender(c, "admin_usage", "Usage", v)
}
