package workflow

import (
	"encoding/json"
	"fmt"
	"strings"

	"fleetprompt/store"
)

// Templates see .trigger (the signal's payload with subject, actor and
// seq) and .steps.<id>.output (with .status, and an agent step's
// .execution_id) of the run's steps so far. A
// key that is not there is an error, never "<no value>".

// TriggerData is a signal as templates see it.
func TriggerData(sig store.Signal) map[string]any {
	d := map[string]any{}
	json.Unmarshal(sig.Payload, &d) // a payload that is not an object adds nothing
	if d == nil {
		d = map[string]any{}
	}
	d["subject"] = map[string]any{"type": sig.SubjectType, "id": sig.SubjectID}
	d["actor"] = map[string]any{"type": sig.ActorType, "id": sig.ActorID}
	d["seq"] = sig.Seq
	d["signal"] = sig.Name
	return d
}

// templateData is what a step's templates see.
func templateData(run store.WorkflowRun, steps []store.WorkflowStep) map[string]any {
	trig := map[string]any{}
	json.Unmarshal(run.Trigger, &trig)
	outs := map[string]any{}
	for _, s := range steps {
		if s.Status == store.StepSucceeded || s.Status == store.StepSkipped {
			outs[s.StepID] = map[string]any{"output": s.Output, "status": s.Status, "execution_id": s.ExecutionID}
		}
	}
	return map[string]any{"trigger": trig, "steps": outs}
}

// render runs one template of step.
func render(step, text string, data map[string]any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	t, err := parseTemplate(step, text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template: %v", cleanTemplateError(err))
	}
	return b.String(), nil
}

// cleanTemplateError drops the template's internal name from the message.
func cleanTemplateError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": executing "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j > 0 {
			if k := strings.Index(msg[i+j+2:], ": "); k >= 0 {
				return msg[i+j+2+k+2:]
			}
		}
	}
	return msg
}

// renderPayload renders every string of a directive step's payload.
func renderPayload(step string, v any, data map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		return render(step, x, data)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderPayload(step, e, data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderPayload(step, e, data)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// truthy reads a rendered when: "true" runs the step; "", "false", "0"
// and "no" skip it.
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "0", "no", "<nil>":
		return false
	}
	return true
}
