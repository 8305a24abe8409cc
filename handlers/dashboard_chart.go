package handlers

import (
	"context"
	"time"

	"fleetprompt/store"
	"fleetprompt/views"
)

// activitySeries are the families of signals the dashboard's chart
// stacks, in people's words; anything else counts as "Other".
var activitySeries = []views.Series{
	{Key: "forum", Label: "Forums", Class: "s-forum"},
	{Key: "package", Label: "Marketplace", Class: "s-package"},
	{Key: "directive", Label: "Directives", Class: "s-directive"},
	{Key: "agent", Label: "Agents", Class: "s-agent"},
	{Key: "member", Label: "People", Class: "s-member"},
	{Key: "other", Label: "Other", Class: "s-other"},
}

// activityDays is how far back the dashboard's chart looks.
const activityDays = 30

// activityChart draws the last 30 days of the organization's activity
// from the activity subscriber's daily counts (jobs/activity): a page
// load reads at most 30 × families rows, never the signal table.
func (h *Handler) activityChart(ctx context.Context, t store.Tenant) (views.BarChart, error) {
	days, err := h.store.Activity(ctx, t, activityDays, time.Now())
	if err != nil {
		return views.BarChart{}, err
	}
	known := map[string]bool{}
	for _, s := range activitySeries {
		known[s.Key] = true
	}
	in := make([]views.DayValues, len(days))
	for i, d := range days {
		v := map[string]int64{}
		for fam, n := range d.ByFamily {
			if !known[fam] {
				fam = "other"
			}
			v[fam] += int64(n)
		}
		in[i] = views.DayValues{Day: d.Day, Values: v}
	}
	series := append([]views.Series(nil), activitySeries...)
	return views.NewBarChart("Activity in this organization", "events", in, series), nil
}
