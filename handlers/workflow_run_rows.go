package handlers

import (
	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

// runRow is a run in a list, with its trigger in words.
type runRow struct {
	store.WorkflowRun
	Because string
}

func runRows(runs []store.WorkflowRun) []runRow {
	out := make([]runRow, len(runs))
	for i, r := range runs {
		out[i] = runRow{WorkflowRun: r, Because: triggerWords(r.TriggerName)}
	}
	return out
}

// triggerWords is what a trigger signal means to people.
func triggerWords(signal string) string {
	if l := workflow.TriggerLabel(signal); l != "" {
		return l
	}
	return signal
}
