package handlers

import (
	"encoding/json"
	"sort"
	"strings"

	"fleetprompt/jobs/workflow"
)

// load fills the form from a definition.
func (e *editor) load(d workflow.Definition) {
	e.Signal = d.Trigger.Signal
	keys := make([]string, 0, len(d.Trigger.Where))
	for k := range d.Trigger.Where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var where []string
	for _, k := range keys {
		where = append(where, k+" = "+d.Trigger.Where[k])
	}
	e.Where = strings.Join(where, "\n")
	e.Rows = nil
	for _, s := range d.Steps {
		r := stepRow{ID: s.ID, Kind: s.Kind(), Needs: strings.Join(s.Needs, ", "), When: s.When, Agent: strings.TrimPrefix(s.Agent, "@"),
			Prompt: s.Prompt, Thread: s.Thread, Directive: s.Directive, Delay: s.Delay}
		if s.Payload != nil {
			b, _ := json.MarshalIndent(s.Payload, "", "  ")
			r.Payload = string(b)
		}
		if s.Approval != nil {
			r.ApprovalPrompt, r.ApprovalTimeout = s.Approval.Prompt, s.Approval.Timeout
		}
		e.Rows = append(e.Rows, r)
	}
	e.number()
	e.JSON = d.JSON()
}

func indentJSON(raw string) string {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return raw
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
