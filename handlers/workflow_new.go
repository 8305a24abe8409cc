package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
	"fleetprompt/views"
)

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
