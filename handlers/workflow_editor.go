package handlers

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
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
