package handlers

import (
	"fleetprompt/store"
	"fleetprompt/views"
)

// usageChart stacks each day's tokens by agent, the busiest first.
func usageChart(days []store.UsageDay, agents []store.UsageRow) views.BarChart {
	var series []views.Series
	own := map[string]bool{}
	for i, a := range agents {
		if i == usageSeries {
			break
		}
		name := a.AgentName
		if a.Builtin() {
			name = store.BuiltInAssistant
		}
		series = append(series, views.Series{Key: a.AgentID, Label: name, Class: usageClasses[i]})
		own[a.AgentID] = true
	}
	series = append(series, views.Series{Key: "other", Label: "Other agents", Class: "s-other"})
	in := make([]views.DayValues, len(days))
	for i, d := range days {
		v := map[string]int64{}
		for id, n := range d.ByAgent {
			if !own[id] {
				id = "other"
			}
			v[id] += n
		}
		in[i] = views.DayValues{Day: d.Day, Values: v}
	}
	return views.NewBarChart("Tokens used per day", "tokens", in, series)
}
