package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
	"fleetprompt/views"
)

// The workflow form (owners and admins): GET /workflows/new, POST
// /workflows, GET /workflows/:id/edit, POST /workflows/:id. The editing
// buttons (add, remove, import) post the same form and get it back; a
// save gets 303, or the form again with 422 naming the problem.

// triggerOption is one entry of the trigger picker.
type triggerOption struct{ Signal, Label string }

type workflowFormData struct {
	Workflow *store.Workflow // nil for a new one
	Editor   editor
	Triggers []triggerOption
	Agents   []store.Agent
	Kinds    []directive.Kind
}

// Action is where the form posts.
func (d workflowFormData) Action() string {
	if d.Workflow == nil {
		return "/workflows"
	}
	return "/workflows/" + d.Workflow.ID
}

func workflowInvalid(msg string) error { return store.Invalid("definition", msg) }

// starter is a new workflow's first draft: answer new threads with an
// agent, then post the answer.
func starter() editor {
	e := editor{Signal: "forum.thread.created", Rows: []stepRow{
		{ID: "draft", Kind: workflow.KindAgent, Prompt: "Someone asks:\n{{.trigger.title}}\n\n{{.trigger.body}}\n\nAnswer briefly."},
		{ID: "post", Kind: workflow.KindDirective, Needs: "draft", Directive: "forum.post.create",
			Payload: "{\n  \"thread_id\": \"{{.trigger.thread_id}}\",\n  \"body\": \"{{.steps.draft.output}}\"\n}"},
	}}
	e.number()
	if d, err := e.definition(); err == nil {
		e.JSON = d.JSON()
	}
	return e
}

func (h *Handler) workflowNew(c *gin.Context) error {
	e := starter()
	agents, err := h.store.ListAgents(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	for _, a := range agents {
		if a.State == store.AgentActive {
			e.Rows[0].Agent = a.Handle // the first agent that can answer
			if d, err := e.definition(); err == nil {
				e.JSON = d.JSON()
			}
			break
		}
	}
	return h.renderWorkflowForm(c, http.StatusOK, nil, e, views.NewForm())
}

func (h *Handler) workflowEdit(c *gin.Context) error {
	w, err := h.store.Workflow(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	e := editor{Name: w.Name, Description: w.Description, JSON: indentJSON(string(w.Definition))}
	if d, err := workflow.Parse(string(w.Definition)); err == nil {
		e.load(d)
	}
	return h.renderWorkflowForm(c, http.StatusOK, &w, e, views.NewForm())
}

func (h *Handler) workflowCreate(c *gin.Context) error { return h.workflowSave(c, nil) }

func (h *Handler) workflowUpdate(c *gin.Context) error {
	w, err := h.store.Workflow(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		return err
	}
	return h.workflowSave(c, &w)
}

// workflowSave handles every post of the form: an editing button gets
// the form back; a save checks the definition with the engine (unknown
// agents and kinds included) and stores it.
func (h *Handler) workflowSave(c *gin.Context, cur *store.Workflow) error {
	ctx, t := c.Request.Context(), tenant(c)
	e := editorOf(c)
	f := views.NewForm()
	fail := func(err error) error {
		var v *store.ValidationError
		if !errors.As(err, &v) {
			return err
		}
		f.Errors = v.Fields
		return h.renderWorkflowForm(c, http.StatusUnprocessableEntity, cur, e, f)
	}
	if edited, err := e.apply(); edited {
		if err != nil {
			return fail(err)
		}
		return h.renderWorkflowForm(c, http.StatusOK, cur, e, f)
	}
	raw := e.JSON
	if c.PostForm("editor") == "rows" {
		d, err := e.definition()
		if err != nil {
			return fail(err)
		}
		raw = d.JSON()
	} else if d, err := workflow.Parse(raw); err == nil {
		e.load(d) // shown in the rows if the save is refused
	}
	d, err := h.flows.ParseAndCheck(ctx, t, raw)
	if err != nil {
		return fail(err)
	}
	spec := store.WorkflowSpec{Name: e.Name, Description: e.Description, Definition: d.JSON(), TriggerSignal: d.Trigger.Signal}
	var w store.Workflow
	if cur == nil {
		w, err = h.store.CreateWorkflow(ctx, t, spec, authOf(c).Session.UserID)
	} else {
		w, err = h.store.UpdateWorkflow(ctx, t, cur.ID, spec, authOf(c).Session.UserID)
	}
	if err != nil {
		return fail(err)
	}
	if cur == nil {
		h.flash(c, "info", w.Name+" is saved, and off. Turn it on to let it run.")
	} else {
		h.flash(c, "info", w.Name+" is saved. Runs under way keep the steps they started with.")
	}
	return redirect(c, "/workflows/"+w.ID)
}

func (h *Handler) renderWorkflowForm(c *gin.Context, status int, w *store.Workflow, e editor, f *views.Form) error {
	agents, err := h.store.ListAgents(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	d := workflowFormData{Workflow: w, Editor: e, Agents: agents}
	for _, s := range workflow.TriggerNames() {
		d.Triggers = append(d.Triggers, triggerOption{Signal: s, Label: workflow.TriggerLabel(s)})
	}
	for _, k := range h.dirs.Kinds() {
		if k.Name != workflow.DirectiveRunStart {
			d.Kinds = append(d.Kinds, k)
		}
	}
	title := "New workflow"
	if w != nil {
		title = "Edit " + w.Name
	}
	p := h.page(c, title, d)
	p.Form = f
	return h.render(c, status, "workflow_form", "workflow_form", p)
}
