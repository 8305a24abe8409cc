package handlers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
)

// The workflow editor's form, without JavaScript: a trigger picker, one
// row of fields per step (its kind fixed when the row is added), "Add
// step" and "Remove" as submit buttons that re-render the form, and the
// definition as JSON for export and import. A post without the rows
// (editor unset: a script, a test) saves its `definition` as it is.

// stepRow is one step as the form shows it: strings, as typed.
type stepRow struct {
	Index                           int
	ID, Kind, Needs, When           string
	Agent, Prompt, Thread           string
	Directive, Payload              string
	ApprovalPrompt, ApprovalTimeout string
	Delay                           string
}

// Number is the step's place as people count.
func (r stepRow) Number() int { return r.Index + 1 }

// editor is the form's state: what was typed, and the definition it
// makes when it makes one.
type editor struct {
	Name, Description string
	Signal, Where     string // Where: "key = value" lines
	Rows              []stepRow
	// JSON is the definition shown for export (and edited for import).
	JSON string
	// Action is the button pressed: "" (save), "add", "remove", "import".
	Action, Arg string
	NewKind     string
}

// editorOf reads the posted form.
func editorOf(c *gin.Context) editor {
	e := editor{Name: c.PostForm("name"), Description: c.PostForm("description"), Signal: c.PostForm("trigger_signal"),
		Where: c.PostForm("trigger_where"), JSON: c.PostForm("definition"), NewKind: c.PostForm("new_kind")}
	e.Action, e.Arg, _ = strings.Cut(c.PostForm("_action"), ":")
	n, _ := strconv.Atoi(c.PostForm("step_count"))
	for i := 0; i < n && i < maxStepRows; i++ {
		f := func(k string) string { return c.PostForm(fmt.Sprintf("step_%s_%d", k, i)) }
		e.Rows = append(e.Rows, stepRow{ID: strings.TrimSpace(f("id")), Kind: f("kind"), Needs: f("needs"), When: f("when"),
			Agent: f("agent"), Prompt: f("prompt"), Thread: f("thread"), Directive: f("directive"), Payload: f("payload"),
			ApprovalPrompt: f("approval_prompt"), ApprovalTimeout: f("approval_timeout"), Delay: f("delay")})
	}
	e.number()
	return e
}

// maxStepRows bounds the rows read from a form (the engine's own limit on
// steps is checked on save).
const maxStepRows = 50

func (e *editor) number() {
	for i := range e.Rows {
		e.Rows[i].Index = i
	}
}

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

func indentJSON(raw string) string {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return raw
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
