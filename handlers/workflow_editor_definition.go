package handlers

import (
	"encoding/json"
	"fmt"
	"strings"

	"fleetprompt/jobs/workflow"
)

// definition builds the definition the rows describe; what it cannot
// even read (a "where" line without "=", a payload that is not a JSON
// object) is a 422 naming the step. The engine checks the rest.
func (e *editor) definition() (workflow.Definition, error) {
	d := workflow.Definition{Trigger: workflow.Trigger{Signal: strings.TrimSpace(e.Signal)}}
	for _, line := range strings.Split(e.Where, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return d, workflowInvalid(fmt.Sprintf("the trigger's condition %q is not \"field = value\"", line))
		}
		if d.Trigger.Where == nil {
			d.Trigger.Where = map[string]string{}
		}
		d.Trigger.Where[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	for _, r := range e.Rows {
		s := workflow.Step{ID: r.ID, When: strings.TrimSpace(r.When)}
		for _, n := range strings.Split(r.Needs, ",") {
			if n = strings.TrimSpace(n); n != "" {
				s.Needs = append(s.Needs, n)
			}
		}
		switch r.Kind {
		case workflow.KindAgent:
			s.Agent, s.Prompt, s.Thread = strings.TrimPrefix(strings.TrimSpace(r.Agent), "@"), r.Prompt, strings.TrimSpace(r.Thread)
			if s.Agent == "" {
				return d, workflowInvalid(fmt.Sprintf("step %q: choose the agent", r.ID))
			}
		case workflow.KindDirective:
			s.Directive = strings.TrimSpace(r.Directive)
			if s.Directive == "" {
				return d, workflowInvalid(fmt.Sprintf("step %q: choose what it does", r.ID))
			}
			if p := strings.TrimSpace(r.Payload); p != "" {
				if err := json.Unmarshal([]byte(p), &s.Payload); err != nil || s.Payload == nil {
					return d, workflowInvalid(fmt.Sprintf("step %q: the payload must be a JSON object, like {\"thread_id\": \"{{.trigger.thread_id}}\"}", r.ID))
				}
			}
		case workflow.KindApproval:
			s.Approval = &workflow.Approval{Prompt: r.ApprovalPrompt, Timeout: strings.TrimSpace(r.ApprovalTimeout)}
		case workflow.KindDelay:
			s.Delay = strings.TrimSpace(r.Delay)
			if s.Delay == "" {
				return d, workflowInvalid(fmt.Sprintf("step %q: say how long to wait, like 10m or 2h", r.ID))
			}
		default:
			return d, workflowInvalid(fmt.Sprintf("step %q has no kind", r.ID))
		}
		d.Steps = append(d.Steps, s)
	}
	return d, nil
}
