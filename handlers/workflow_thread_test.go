package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

// A workflow's agent step that answers in a thread (Support auto-reply as
// the seed ships it) streams its text into the open thread, like an agent
// asked there; the post the next step makes replaces it, with the badge
// and the link to the run that wrote it.
func TestWorkflowAnswerStreamsIntoItsThread(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		r := llmtest.Text("Open the back tray ", "and pull the paper out.")
		r.Gate, r.GateAt = gate, 1
		return r
	})
	defer fake.Close()
	as := &agentSite{logs: &syncBuffer{}}
	as.site = startSite(t, siteConfig{agents: true, workflows: true, live: true, writeTimeout: 10 * time.Second,
		directives: allKinds, logTo: as.logs, llm: llm.New(llm.Config{BaseURL: fake.BaseURL(), Model: "fake-model"})})
	o := as.newOrg("wfthr")
	as.setTier(o, "pro")
	as.activeAgent(o, "Ticket Manager")
	owner, err := as.store.UserByEmail(ctx, o.slug+"@example.com")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := as.store.CreateForumCategory(ctx, o.tenant, owner.ID, store.NewForumCategory{Name: "Support", Slug: "support"})
	if err != nil {
		t.Fatal(err)
	}
	def := `{"trigger": {"signal": "forum.thread.created", "where": {"category_slug": "support"}},
		"steps": [{"id": "draft", "agent": "ticket-manager", "thread": "{{.trigger.thread_id}}", "prompt": "{{.trigger.title}}"},
		{"id": "post", "needs": ["draft"], "directive": "forum.post.create",
		 "payload": {"thread_id": "{{.trigger.thread_id}}", "body": "{{.steps.draft.output}}", "as_agent": "ticket-manager",
		             "execution_id": "{{.steps.draft.execution_id}}"}}]}`
	r := o.owner.post("/workflows", url.Values{"name": {"Support auto-reply"}, "definition": {def}})
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, o.owner.post(r.Header.Get("Location")+"/enable", nil), http.StatusSeeOther)
	as.runJobs(o.slug)

	th, _, err := as.store.CreateForumThread(ctx, o.tenant, owner.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Printer jams",
		Body: "How do I clear it?"})
	if err != nil {
		t.Fatal(err)
	}
	s := o.member.stream(t, "/events?topic=thread:"+th.ID)
	// The stream may join after the answer began: then its first word
	// comes as the catch-up.
	begun := s.nextOf(t, "agent.output.started", "agent.output.snapshot")
	if !strings.Contains(begun.Data, `data-testid="agent-answering"`) || !strings.Contains(begun.Data, "Ticket Manager") {
		t.Errorf("the answer does not show in the thread: %s", begun.Data)
	}
	close(gate)
	// The words after the gate arrive as they are written.
	for !strings.Contains(s.next(t, "agent.output.delta").Data, "pull the paper out") {
	}
	created := s.next(t, "forum.post.created")
	for !strings.Contains(created.Data, "agent-badge") {
		created = s.next(t, "forum.post.created")
	}
	ps := as.waitAgentPosts(o, th.ID, 1)
	if !ps[0].ExecutionID.Valid || !strings.Contains(created.Data, `hx-swap-oob="delete"`) ||
		!strings.Contains(created.Data, `href="/executions/`+ps[0].ExecutionID.String+`"`) {
		t.Errorf("the post does not replace the streamed answer or link its run: %.600s", created.Data)
	}
	// The run's execution page leads back to the run, not the thread.
	ex := o.member.get("/executions/" + ps[0].ExecutionID.String).doc(t)
	if ex.Find(`a[href^="/workflows/runs/"]`).Length() == 0 {
		t.Error("the execution page does not link to its workflow run")
	}
}

// The editor's agent rows carry the thread an answer streams into, both
// ways: saved from the row, shown again on edit.
func TestWorkflowEditorKeepsTheAnswersThread(t *testing.T) {
	t.Parallel()
	as := newWorkflowSite(t)
	o := as.newOrg("wfedthr")
	as.activeAgent(o, "Ticket Manager")
	page := o.owner.get("/workflows/new")
	r := o.owner.post("/workflows", editorForm(t, page, "save", map[string]string{"name": "Answers in place",
		"step_agent_0": "ticket-manager", "step_thread_0": "{{.trigger.thread_id}}"}))
	wantStatus(t, r, http.StatusSeeOther)
	id := strings.TrimPrefix(r.Header.Get("Location"), "/workflows/")
	w, err := as.store.Workflow(ctx, o.tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(w.Definition), `"thread": "{{.trigger.thread_id}}"`) {
		t.Errorf("saved definition: %s", w.Definition)
	}
	edit := o.owner.get("/workflows/" + id + "/edit").doc(t)
	if v := edit.Find("#step-thread-0").AttrOr("value", ""); v != "{{.trigger.thread_id}}" {
		t.Errorf("the editor shows the thread as %q", v)
	}
}
