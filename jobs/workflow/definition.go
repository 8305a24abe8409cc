// Package workflow is the workflow engine (SPEC §13): definitions (a
// trigger and a DAG of steps), the signal subscriber that starts exactly
// one run per workflow and signal, and the step jobs whose effects commit
// with their status. app/platform.go registers its kinds, subscribers,
// job kinds and the agent purpose of its agent steps.
package workflow

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"

	"fleetprompt/store"
)

// Definition is a workflow: what starts it and what it does.
type Definition struct {
	Trigger Trigger `json:"trigger"`
	Steps   []Step  `json:"steps"`
}

// Trigger is the signal that starts a run, narrowed by payload values
// ("where": {"category_slug": "support"}).
type Trigger struct {
	Signal string            `json:"signal"`
	Where  map[string]string `json:"where,omitempty"`
}

// Step is one node of the DAG. Exactly one of Agent, Directive, Approval
// and Delay says its kind.
type Step struct {
	ID    string   `json:"id"`
	Needs []string `json:"needs,omitempty"`
	// When, a template, skips the step unless it renders "true".
	When string `json:"when,omitempty"`
	// Agent is an agent's @handle; Prompt (a template) its input.
	Agent  string `json:"agent,omitempty"`
	Prompt string `json:"prompt,omitempty"`
	// Thread (a template, agent steps only) names the forum thread whose
	// open pages show the answer as it is written, before a later step
	// posts it there.
	Thread string `json:"thread,omitempty"`
	// Directive is a directive kind; Payload's strings are templates.
	Directive string         `json:"directive,omitempty"`
	Payload   map[string]any `json:"payload,omitempty"`
	// Approval waits for an owner or admin (with an optional timeout).
	Approval *Approval `json:"approval,omitempty"`
	// Delay waits for a duration ("10m").
	Delay string `json:"delay,omitempty"`
}

// Approval is an approval step's settings.
type Approval struct {
	Prompt  string `json:"prompt,omitempty"`
	Timeout string `json:"timeout,omitempty"` // a Go duration; empty waits for ever
}

// UnmarshalJSON takes "approval": true as an approval without settings.
func (a *Approval) UnmarshalJSON(b []byte) error {
	if string(b) == "true" {
		*a = Approval{}
		return nil
	}
	type plain Approval
	return json.Unmarshal(b, (*plain)(a))
}

// Step kinds.
const (
	KindAgent     = "agent"
	KindDirective = "directive"
	KindApproval  = "approval"
	KindDelay     = "delay"
)

// Kind says what the step does.
func (s Step) Kind() string {
	switch {
	case s.Agent != "":
		return KindAgent
	case s.Directive != "":
		return KindDirective
	case s.Approval != nil:
		return KindApproval
	case s.Delay != "":
		return KindDelay
	}
	return ""
}

// Timeout is an approval's timeout (0: none).
func (s Step) Timeout() time.Duration {
	if s.Approval == nil || s.Approval.Timeout == "" {
		return 0
	}
	d, _ := time.ParseDuration(s.Approval.Timeout)
	return d
}

// DelayFor is a delay step's duration.
func (s Step) DelayFor() time.Duration {
	d, _ := time.ParseDuration(s.Delay)
	return d
}

var stepID = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Parse reads and checks a definition's shape: every step one kind, ids
// unique, needs known and without cycles, templates that parse, the
// trigger a known signal. A problem is a *store.ValidationError on
// "definition" naming the step. References to the organization (agents,
// directive kinds) are the engine's Check.
func Parse(raw string) (Definition, error) {
	var d Definition
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, invalid("is not a workflow definition: %v", err)
	}
	return d, d.check()
}

func invalid(format string, args ...any) error {
	return store.Invalid("definition", fmt.Sprintf(format, args...))
}

func (d Definition) check() error {
	if !KnownTrigger(d.Trigger.Signal) {
		return invalid("the trigger %q is not a signal workflows can react to; choose one of: %s", d.Trigger.Signal, strings.Join(TriggerNames(), ", "))
	}
	if len(d.Steps) == 0 {
		return invalid("has no steps")
	}
	if len(d.Steps) > 50 {
		return invalid("has %d steps: at most 50", len(d.Steps))
	}
	ids := map[string]bool{}
	for _, s := range d.Steps {
		if err := s.check(ids); err != nil {
			return err
		}
		ids[s.ID] = true
	}
	for _, s := range d.Steps {
		for _, n := range s.Needs {
			if !ids[n] {
				return invalid("step %q needs %q, which is not a step", s.ID, n)
			}
		}
	}
	if cyc := d.cycle(); cyc != "" {
		return invalid("step %q is in a cycle: its needs lead back to it", cyc)
	}
	return nil
}

func (s Step) check(seen map[string]bool) error {
	if !stepID.MatchString(s.ID) {
		return invalid("step id %q: use lowercase letters, digits and _ (starting with a letter), at most 40", s.ID)
	}
	if seen[s.ID] {
		return invalid("step %q appears twice", s.ID)
	}
	kinds := 0
	for _, set := range []bool{s.Agent != "", s.Directive != "", s.Approval != nil, s.Delay != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return invalid("step %q must be exactly one of agent, directive, approval or delay", s.ID)
	}
	if s.Kind() == KindDelay {
		if d, err := time.ParseDuration(s.Delay); err != nil || d <= 0 || d > 30*24*time.Hour {
			return invalid("step %q: delay %q is not a duration such as 10m or 2h (at most 30 days)", s.ID, s.Delay)
		}
	}
	if s.Approval != nil && s.Approval.Timeout != "" {
		if d, err := time.ParseDuration(s.Approval.Timeout); err != nil || d <= 0 {
			return invalid("step %q: approval timeout %q is not a duration such as 24h", s.ID, s.Approval.Timeout)
		}
	}
	if s.Kind() == KindAgent && strings.TrimSpace(s.Prompt) == "" {
		return invalid("step %q: an agent step needs a prompt", s.ID)
	}
	if s.Thread != "" && s.Kind() != KindAgent {
		return invalid("step %q: only an agent step shows its answer in a thread", s.ID)
	}
	for _, tpl := range s.templates() {
		if _, err := parseTemplate(s.ID, tpl); err != nil {
			return invalid("step %q: %v", s.ID, err)
		}
	}
	for _, n := range s.Needs {
		if n == s.ID {
			return invalid("step %q needs itself", s.ID)
		}
	}
	return nil
}

// templates are the step's template texts.
func (s Step) templates() []string {
	out := []string{s.When, s.Prompt, s.Thread}
	if s.Approval != nil {
		out = append(out, s.Approval.Prompt)
	}
	walkStrings(s.Payload, func(v string) { out = append(out, v) })
	return out
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkStrings(x[k], fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}

// cycle returns a step on a cycle of needs, or "".
func (d Definition) cycle() string {
	needs := map[string][]string{}
	for _, s := range d.Steps {
		needs[s.ID] = s.Needs
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case 1:
			return true
		case 2:
			return false
		}
		state[id] = 1
		for _, n := range needs[id] {
			if visit(n) {
				return true
			}
		}
		state[id] = 2
		return false
	}
	for _, s := range d.Steps {
		if visit(s.ID) {
			return s.ID
		}
	}
	return ""
}

// Step returns the step with id.
func (d Definition) Step(id string) (Step, bool) {
	for _, s := range d.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// JSON is the definition as stored (and exported), indented.
func (d Definition) JSON() string {
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}

// Matches reports whether a signal's payload fits the trigger's where.
func (t Trigger) Matches(payload map[string]any) bool {
	for k, want := range t.Where {
		if fmt.Sprint(payload[k]) != want {
			return false
		}
	}
	return true
}

var funcs = template.FuncMap{
	"lower": strings.ToLower, "upper": strings.ToUpper, "trim": strings.TrimSpace,
	"contains": strings.Contains,
	"default": func(def, v any) any {
		if v == nil || fmt.Sprint(v) == "" {
			return def
		}
		return v
	},
}

func parseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
}
