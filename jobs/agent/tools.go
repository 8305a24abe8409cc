package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/store"
)

// Tools the model may call. Read-only tools run at once and read only the
// execution's organization (and the public catalogue). Action tools only
// propose: a person confirms on a card, and the confirmation requests the
// directive (chat). Skill tools come with the skills the organization has
// enabled; those that cannot work here (no internet, no e-mail provider)
// are listed as unavailable on the skills page and never offered.

// Tool is one function the model may call.
type Tool struct {
	Name, Description string
	// Parameters is a JSON Schema object.
	Parameters json.RawMessage
	// Skill is the skill that brings it ("" for the built-in ones).
	Skill string
	// Action tools propose a change for a person to confirm.
	Action bool
	// Unavailable says why the tool cannot run in this installation.
	Unavailable string
	RunFunc     func(ctx context.Context, c Call) (string, error)
}

// Call is one tool call in its execution.
type Call struct {
	Tenant    store.Tenant
	Execution store.Execution
	Args      json.RawMessage
}

// ProposeFunc records an action tool's proposal (chat's cards) and says
// what the model is told.
type ProposeFunc func(ctx context.Context, c Call, tool string) (string, error)

// Toolbox holds every tool.
type Toolbox struct {
	st      *store.Store
	tools   map[string]Tool
	order   []string
	propose ProposeFunc
}

// NewToolbox builds the toolbox with the built-in and skill tools.
func NewToolbox(st *store.Store) *Toolbox {
	tb := &Toolbox{st: st, tools: map[string]Tool{}}
	for _, t := range readTools(st) {
		tb.add(t)
	}
	for _, t := range skillTools() {
		tb.add(t)
	}
	return tb
}

func (tb *Toolbox) add(t Tool) {
	if _, dup := tb.tools[t.Name]; !dup {
		tb.order = append(tb.order, t.Name)
	}
	tb.tools[t.Name] = t
}

// AddActions registers action tools and what records their proposals.
func (tb *Toolbox) AddActions(tools []Tool, propose ProposeFunc) {
	for _, t := range tools {
		t.Action = true
		tb.add(t)
	}
	tb.propose = propose
}

// Tool returns a tool by name.
func (tb *Toolbox) Tool(name string) (Tool, bool) {
	t, ok := tb.tools[name]
	return t, ok
}

// Offered is the tools one execution may call.
type Offered struct {
	tb   *Toolbox
	list []Tool
}

// Offer picks the tools for a run in t: the built-in read tools, the
// available tools of its enabled skills, and the action tools when the
// purpose proposes actions.
func (tb *Toolbox) Offer(ctx context.Context, t store.Tenant, actions bool) Offered {
	enabled := map[string]bool{}
	if names, err := tb.st.EnabledSkillTools(ctx, t); err == nil {
		for _, n := range names {
			enabled[n] = true
		}
	}
	o := Offered{tb: tb}
	for _, name := range tb.order {
		tool := tb.tools[name]
		switch {
		case tool.Unavailable != "":
		case tool.Action && !actions:
		case tool.Skill != "" && !enabled[name]:
		default:
			o.list = append(o.list, tool)
		}
	}
	return o
}

// Specs describes the offered tools to the provider.
func (o Offered) Specs() []llm.Tool {
	out := make([]llm.Tool, 0, len(o.list))
	for _, t := range o.list {
		out = append(out, llm.Tool{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
	}
	return out
}

// Call runs one tool call and returns what the model is told: a failure
// is told too, in words, so the model can carry on.
func (o Offered) Call(ctx context.Context, t store.Tenant, ex store.Execution, call llm.ToolCall) string {
	var tool *Tool
	for i := range o.list {
		if o.list[i].Name == call.Function.Name {
			tool = &o.list[i]
		}
	}
	if tool == nil {
		return fmt.Sprintf("error: there is no tool %q", call.Function.Name)
	}
	args := json.RawMessage(strings.TrimSpace(call.Function.Arguments))
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	if !json.Valid(args) {
		return "error: the arguments are not valid JSON"
	}
	c := Call{Tenant: t, Execution: ex, Args: args}
	if tool.Action {
		if o.tb.propose == nil {
			return "error: this agent cannot propose changes here"
		}
		res, err := o.tb.propose(ctx, c, tool.Name)
		return toolResult(res, err)
	}
	res, err := tool.RunFunc(ctx, c)
	return toolResult(res, err)
}

// isRefusal reports whether err is a refusal with words for people.
func isRefusal(err error) bool {
	var v *store.ValidationError
	return errors.As(err, &v)
}

func toolResult(res string, err error) string {
	var v *store.ValidationError
	switch {
	case errors.As(err, &v):
		return "refused: " + refusalText(v)
	case err != nil:
		return "error: the tool failed; try something else"
	}
	return res
}

// ForSkill lists the tools a skill brings, for its page.
func (tb *Toolbox) ForSkill(names []string) []Tool {
	var out []Tool
	for _, n := range names {
		if t, ok := tb.tools[n]; ok {
			out = append(out, t)
		} else {
			out = append(out, Tool{Name: n, Unavailable: "not implemented in this version of FleetPrompt"})
		}
	}
	return out
}

const toolGuide = `You are working inside FleetPrompt, the organization's workspace. ` +
	`Use the tools to look things up in it (agents, packages, forum). Tools that change something only propose the change: ` +
	`a person sees a card with a Confirm button. Never say a change is done; say it is proposed and waits for confirmation.`

var noArgs = json.RawMessage(`{"type":"object","properties":{}}`)

func queryArg(c Call) string {
	var a struct {
		Query string `json:"query"`
	}
	json.Unmarshal(c.Args, &a)
	return a.Query
}
