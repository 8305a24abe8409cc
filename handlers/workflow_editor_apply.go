package handlers

import (
	"strconv"

	"fleetprompt/jobs/workflow"
)

// apply performs an editing button: it reports false for a save.
func (e *editor) apply() (edited bool, err error) {
	switch e.Action {
	case "add":
		kind := e.NewKind
		switch kind {
		case workflow.KindAgent, workflow.KindDirective, workflow.KindApproval, workflow.KindDelay:
		default:
			kind = workflow.KindAgent
		}
		row := stepRow{ID: e.freeID(kind), Kind: kind}
		if n := len(e.Rows); n > 0 {
			row.Needs = e.Rows[n-1].ID
		}
		if kind == workflow.KindDelay {
			row.Delay = "10m"
		}
		e.Rows = append(e.Rows, row)
	case "remove":
		i, convErr := strconv.Atoi(e.Arg)
		if convErr == nil && i >= 0 && i < len(e.Rows) {
			e.Rows = append(e.Rows[:i], e.Rows[i+1:]...)
		}
	case "import":
		d, perr := workflow.Parse(e.JSON)
		if perr != nil {
			return true, perr
		}
		e.load(d)
	default:
		return false, nil
	}
	e.number()
	if d, derr := e.definition(); derr == nil {
		e.JSON = d.JSON()
	}
	return true, nil
}

// freeID is the first "<kind>", "<kind>_2", ... no row uses.
func (e *editor) freeID(kind string) string {
	used := map[string]bool{}
	for _, r := range e.Rows {
		used[r.ID] = true
	}
	id := kind
	for n := 2; used[id]; n++ {
		id = kind + "_" + strconv.Itoa(n)
	}
	return id
}
