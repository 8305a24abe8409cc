package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

// newWorkflowSite is a live site with the agent and workflow engines (and
// the fake provider, if one is given; else the built-in responder).
func newWorkflowSite(t *testing.T, provider ...*llmtest.Server) *agentSite {
	t.Helper()
	as := &agentSite{logs: &syncBuffer{}}
	sc := siteConfig{agents: true, workflows: true, live: true, writeTimeout: 10 * time.Second, directives: allKinds, logTo: as.logs}
	if len(provider) > 0 {
		sc.llm = llm.New(llm.Config{BaseURL: provider[0].BaseURL(), Model: "fake-model"})
	}
	as.site = startSite(t, sc)
	return as
}

func (as *agentSite) setTier(o *agentOrg, tier string) {
	as.t.Helper()
	as.store.DB.MustExec(`UPDATE organizations SET tier = $2 WHERE id = $1`, o.tenant.OrgID, tier)
}

// editorForm is the editor's form as a browser without JavaScript posts
// it, from the page's own fields, with one button pressed.
func editorForm(t *testing.T, r *response, button string, set map[string]string) url.Values {
	t.Helper()
	d := r.doc(t)
	form := url.Values{}
	d.Find("#workflow-form input, #workflow-form textarea, #workflow-form select").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if !ok {
			return
		}
		switch {
		case s.Is("textarea"):
			form.Set(name, s.Text())
		case s.Is("select"):
			v := s.Find("option[selected]").AttrOr("value", s.Find("option").First().AttrOr("value", ""))
			form.Set(name, v)
		default:
			form.Set(name, s.AttrOr("value", ""))
		}
	})
	for k, v := range set {
		form.Set(k, v)
	}
	form.Set("_action", button)
	return form
}

// The editor without JavaScript: add a step with a submit button, fill it,
// save; a problem is a 422 naming the step with everything typed kept; the
// JSON imports into rows and exports what was saved.
func TestWorkflowEditorWithoutJavaScript(t *testing.T) {
	t.Parallel()
	as := newWorkflowSite(t)
	o := as.newOrg("wfedit")
	as.activeAgent(o, "Ticket Manager")
	wantStatus(t, o.member.get("/workflows/new"), http.StatusForbidden)

	page := o.owner.get("/workflows/new")
	wantStatus(t, page, http.StatusOK)
	if n := page.doc(t).Find("[data-testid=step-row]").Length(); n != 2 {
		t.Fatalf("the new workflow starts with %d steps, want the 2 of the starter", n)
	}
	// Add an approval step between nothing and everything: it needs "post".
	r := o.owner.post("/workflows", editorForm(t, page, "add", map[string]string{"new_kind": "approval", "name": "Triage"}))
	wantStatus(t, r, http.StatusOK)
	rows := r.doc(t).Find("[data-testid=step-row]")
	if rows.Length() != 3 || rows.Last().AttrOr("data-kind", "") != "approval" || rows.Last().AttrOr("data-step", "") != "approval" {
		t.Fatalf("after Add step: %d rows, last %q", rows.Length(), rows.Last().AttrOr("data-kind", ""))
	}
	if v := r.doc(t).Find("#wf-name").AttrOr("value", ""); v != "Triage" {
		t.Errorf("the name typed is lost on Add step: %q", v)
	}

	// Saving without choosing the agent: 422 naming the step.
	r = o.owner.post("/workflows", editorForm(t, r, "save", map[string]string{"step_agent_0": "", "step_approval_prompt_2": "Post it?"}))
	wantRefused(t, r, `step "draft"`)
	if v := r.doc(t).Find("#step-aprompt-2").AttrOr("value", ""); v != "Post it?" {
		t.Errorf("the approval prompt typed is lost: %q", v)
	}
	// An agent that is not this organization's: 422 naming the step.
	bad := editorForm(t, r, "save", map[string]string{"step_agent_0": "nobody-here"})
	r = o.owner.post("/workflows", bad)
	wantRefused(t, r, `step "draft"`, "@nobody-here")
	// A template that does not parse.
	bad.Set("step_agent_0", "ticket-manager")
	bad.Set("step_prompt_0", "{{.trigger.title")
	r = o.owner.post("/workflows", bad)
	wantRefused(t, r, `"draft"`)
	// A cycle.
	bad.Set("step_prompt_0", "{{.trigger.title}}")
	bad.Set("step_needs_0", "approval")
	bad.Set("step_needs_2", "post")
	r = o.owner.post("/workflows", bad)
	wantRefused(t, r, "cycle")
	// Fixed: saved, off, and the page describes it in words.
	bad.Set("step_needs_0", "")
	bad.Set("step_needs_2", "draft")
	bad.Set("step_needs_1", "approval")
	r = o.owner.post("/workflows", bad)
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	d := o.member.get(loc).doc(t)
	if st := d.Find("[data-testid=workflow-state]").Text(); st != "off" {
		t.Errorf("a new workflow is %q, want off", st)
	}
	if steps := d.Find("[data-testid=workflow-steps] li").Length(); steps != 3 || !strings.Contains(d.Text(), "@ticket-manager answers") {
		t.Errorf("%d steps described: %s", steps, d.Find("[data-testid=workflow-steps]").Text())
	}
	if d.Find("[data-testid=edit-workflow]").Length() != 0 {
		t.Error("a plain member is offered Edit")
	}

	checkWorkflowEditAndImport(t, as, o, loc)
}

// Enabling is capped by the tier: free allows none (a 422 that says so),
// pro ten.
func TestWorkflowEnableUnderTheTierLimit(t *testing.T) {
	t.Parallel()
	as := newWorkflowSite(t)
	o := as.newOrg("wflimit")
	js := `{"trigger":{"signal":"forum.thread.created"},"steps":[{"id":"wait","delay":"1m"}]}`
	var ids []string
	for _, name := range []string{"One", "Two"} {
		r := o.owner.post("/workflows", url.Values{"name": {name}, "definition": {js}})
		wantStatus(t, r, http.StatusSeeOther)
		ids = append(ids, strings.TrimPrefix(r.Header.Get("Location"), "/workflows/"))
	}
	r := o.owner.post("/workflows/"+ids[0]+"/enable", nil)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := r.doc(t).Find("[data-testid=workflow-error]").Text(); !strings.Contains(msg, "Free plan includes no workflows") &&
		!strings.Contains(msg, "free plan includes no workflows") {
		t.Errorf("limit message: %q", msg)
	}
	wantStatus(t, o.member.post("/workflows/"+ids[0]+"/enable", nil), http.StatusForbidden)
	as.setTier(o, "pro")
	wantStatus(t, o.owner.post("/workflows/"+ids[0]+"/enable", nil), http.StatusSeeOther)
	d := o.member.get("/workflows").doc(t)
	if got := d.Find("[data-testid=workflow-allowance]").Text(); got != "1 of 10 on" {
		t.Errorf("allowance %q", got)
	}
	if d.Find(`[data-testid=workflow][data-enabled=true]`).Length() != 1 {
		t.Error("the list does not show the enabled one")
	}
	wantStatus(t, o.owner.post("/workflows/"+ids[0]+"/disable", nil), http.StatusSeeOther)
	if w, _ := as.store.Workflow(ctx, o.tenant, ids[0]); w.Enabled {
		t.Error("still enabled")
	}
}

// A run with an approval: the run page shows each step as it moves, live
// on run:<id>; owners approve (members only see it wait); a rejection
// fails the run, a retry asks again, and the approved run posts once.
func TestWorkflowRunPageApprovalRetryLive(t *testing.T) {
	t.Parallel()
	as := newWorkflowSite(t)
	o := as.newOrg("wfrun")
	as.setTier(o, "pro")
	as.activeAgent(o, "Dispatcher")
	js := `{"trigger":{"signal":"forum.thread.created"},"steps":[
		{"id":"plan","agent":"dispatcher","prompt":"Plan: {{.trigger.title}}"},
		{"id":"approval","needs":["plan"],"approval":{"prompt":"Post the plan?"}},
		{"id":"post","needs":["approval"],"directive":"forum.post.create",
		 "payload":{"thread_id":"{{.trigger.thread_id}}","body":"Plan: {{.steps.plan.output}}","as_agent":"dispatcher"}}]}`
	r := o.owner.post("/workflows", url.Values{"name": {"Service Request"}, "definition": {js}})
	wantStatus(t, r, http.StatusSeeOther)
	wfID := strings.TrimPrefix(r.Header.Get("Location"), "/workflows/")
	wantStatus(t, o.owner.post("/workflows/"+wfID+"/enable", nil), http.StatusSeeOther)
	as.runJobs(o.slug)

	th := as.forumPost(o, "Boiler is broken", "No hot water since Monday.")
	runID := as.waitRunStep(o, wfID, "approval", store.StepWaiting)
	page := o.member.get("/workflows/runs/" + runID)
	wantStatus(t, page, http.StatusOK)
	pd := page.doc(t)
	if pd.Find("[data-testid=approve-step]").Length() != 0 || !strings.Contains(pd.Text(), "Waiting for an owner or admin") {
		t.Error("a plain member can approve, or is not told the run waits")
	}
	if pd.Find(`[data-step=plan] [data-testid=step-execution]`).Length() != 1 || pd.Find(`[data-step=plan] [data-testid=step-output]`).Length() != 1 {
		t.Error("the agent step shows no output or execution link")
	}
	wantStatus(t, o.member.post("/workflows/runs/"+runID+"/steps/approval/approve", nil), http.StatusForbidden)
	od := o.owner.get("/workflows/runs/" + runID).doc(t)
	if od.Find("[data-testid=approve-step]").Length() != 1 {
		t.Fatal("the owner has no Approve button")
	}
	seq := od.Find("[data-seq]").First().AttrOr("data-seq", "")
	s := o.member.stream(t, "/events?topic=run:"+runID+"&last_event_id="+seq)

	// Reject: the run fails; the live panel says so.
	wantStatus(t, o.owner.post("/workflows/runs/"+runID+"/steps/approval/reject", nil), http.StatusSeeOther)
	ev := s.next(t, "workflow.run.failed")
	if !strings.Contains(ev.Data, `id="run-panel"`) || !strings.Contains(ev.Data, `data-testid="run-status">failed`) ||
		strings.Contains(ev.Data, "retry-run") {
		t.Errorf("the member's live panel after a rejection: %.400s", ev.Data)
	}
	// Deciding twice is a 422, not a second decision.
	r = o.owner.post("/workflows/runs/"+runID+"/steps/approval/approve", nil)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	// Retry from the failed step: it waits again; approve; one post.
	wantStatus(t, o.owner.post("/workflows/runs/"+runID+"/retry", nil), http.StatusSeeOther)
	as.waitRunStep(o, wfID, "approval", store.StepWaiting)
	wantStatus(t, o.owner.post("/workflows/runs/"+runID+"/steps/approval/approve", nil), http.StatusSeeOther)
	ev = s.next(t, "workflow.run.succeeded")
	if !strings.Contains(ev.Data, `data-testid="run-status">succeeded`) {
		t.Errorf("live panel at the end: %.300s", ev.Data)
	}
	posts := as.waitAgentPosts(o, th.ID, 1)
	if !strings.HasPrefix(posts[0].Content, "Plan: ") {
		t.Errorf("posted %q", posts[0].Content)
	}
	fd := o.owner.get("/workflows/runs/" + runID).doc(t)
	if fd.Find("[data-testid=retry-run], [data-testid=cancel-run]").Length() != 0 || !strings.Contains(fd.Find("[data-step=approval]").Text(), "Decided by") {
		t.Error("a finished run offers buttons, or hides who decided")
	}
	// Finished: cancel is a 422.
	wantStatus(t, o.owner.post("/workflows/runs/"+runID+"/cancel", nil), http.StatusUnprocessableEntity)
	time.Sleep(200 * time.Millisecond)
	if n := len(as.threadAgentPosts(o, th.ID)); n != 1 {
		t.Errorf("%d posts", n)
	}
	// The list shows the run.
	if n := o.member.get("/workflows/" + wfID).doc(t).Find("[data-testid=workflow-run-row]").Length(); n != 1 {
		t.Errorf("%d runs on the workflow's page", n)
	}
}

// waitRunStep waits until the workflow's newest run has the step in the
// status, and returns the run's id.
func (as *agentSite) waitRunStep(o *agentOrg, wfID, step, status string) string {
	as.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var runID, got string
		as.store.DB.QueryRow(o.tenant.SQL(`SELECT r.id, s.status FROM {tenant}.workflow_runs r
			JOIN {tenant}.workflow_steps s ON s.run_id = r.id AND s.step_id = $2
			WHERE r.workflow_id = $1 ORDER BY r.started_at DESC LIMIT 1`), wfID, step).Scan(&runID, &got)
		if got == status {
			return runID
		}
		if time.Now().After(deadline) {
			as.t.Fatalf("step %s is %q, want %s", step, got, status)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// wantRefused checks a 422 whose message names each of want.
func wantRefused(t *testing.T, r *response, want ...string) {
	t.Helper()
	wantStatus(t, r, http.StatusUnprocessableEntity)
	msg := r.doc(t).Find("[data-testid=definition-error]").Text()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("the refusal %q does not say %q", msg, w)
		}
	}
}

// Support auto-reply's way: the agent step shows its answer in the thread
// as it is written ("thread"), and the post step, given the step's
// execution_id, posts it as the agent with a link to the run, replacing
// what streamed.
func TestWorkflowAnswerStreamsIntoTheThread(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Use the ", "reset link."}, Gate: gate, GateAt: 1}
	})
	as := newWorkflowSite(t, fake)
	o := as.newOrg("wfstream")
	as.setTier(o, "pro")
	as.activeAgent(o, "Ticket Manager")
	js := `{"trigger":{"signal":"forum.thread.created"},"steps":[
		{"id":"draft","agent":"ticket-manager","thread":"{{.trigger.thread_id}}","prompt":"{{.trigger.title}}"},
		{"id":"post","needs":["draft"],"directive":"forum.post.create","payload":{"thread_id":"{{.trigger.thread_id}}",
		 "body":"{{.steps.draft.output}}","as_agent":"ticket-manager","execution_id":"{{.steps.draft.execution_id}}"}}]}`
	r := o.owner.post("/workflows", url.Values{"name": {"Support auto-reply"}, "definition": {js}})
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, o.owner.post(r.Header.Get("Location")+"/enable", nil), http.StatusSeeOther)
	as.runJobs(o.slug)

	th := as.forumPost(o, "Password reset", "The email never comes.")
	s := o.member.stream(t, "/events?topic=thread:"+th.ID)
	ev := s.nextOf(t, "agent.output.started", "agent.output.snapshot")
	if !strings.Contains(ev.Data, `data-testid="agent-answering"`) {
		t.Fatalf("the answer does not show in the thread as it is written: %s", ev.Data)
	}
	for !strings.Contains(ev.Data, "Use the") {
		ev = s.nextOf(t, "agent.output.delta", "agent.output.snapshot")
	}
	close(gate)
	created := s.next(t, "forum.post.created")
	for !strings.Contains(created.Data, "agent-badge") {
		created = s.next(t, "forum.post.created")
	}
	posts := as.waitAgentPosts(o, th.ID, 1)
	if posts[0].Content != "Use the reset link." || !posts[0].ExecutionID.Valid ||
		!strings.Contains(created.Data, `<article hx-swap-oob="delete" id="agent-answer-`+posts[0].ExecutionID.String+`">`) {
		t.Errorf("post %+v; live: %.300s", posts[0], created.Data)
	}
	// The run page links the post, and the run's execution to the run.
	runID := as.waitRunStep(o, strings.TrimPrefix(r.Header.Get("Location"), "/workflows/"), "post", store.StepSucceeded)
	if o.member.get("/workflows/runs/"+runID).doc(t).Find("[data-testid=step-post]").Length() != 1 {
		t.Error("the run page does not link the post")
	}
	if o.member.get("/executions/"+posts[0].ExecutionID.String).doc(t).Find(`a[href="/workflows/runs/`+runID+`"]`).Length() != 1 {
		t.Error("the execution page does not lead to its run")
	}
}

// forum.post.create's execution_id must be a run of the agent posted as.
func TestWorkflowPostExecutionMustBeTheAgents(t *testing.T) {
	t.Parallel()
	as := newWorkflowSite(t)
	o := as.newOrg("wfexid")
	as.setTier(o, "pro")
	as.activeAgent(o, "Ticket Manager")
	as.activeAgent(o, "Other")
	js := `{"trigger":{"signal":"forum.thread.created"},"steps":[
		{"id":"draft","agent":"other","prompt":"{{.trigger.title}}"},
		{"id":"post","needs":["draft"],"directive":"forum.post.create","payload":{"thread_id":"{{.trigger.thread_id}}",
		 "body":"{{.steps.draft.output}}","as_agent":"ticket-manager","execution_id":"{{.steps.draft.execution_id}}"}}]}`
	r := o.owner.post("/workflows", url.Values{"name": {"Mismatch"}, "definition": {js}})
	wantStatus(t, r, http.StatusSeeOther)
	wfID := strings.TrimPrefix(r.Header.Get("Location"), "/workflows/")
	wantStatus(t, o.owner.post("/workflows/"+wfID+"/enable", nil), http.StatusSeeOther)
	as.runJobs(o.slug)
	th := as.forumPost(o, "Question", "Body")
	runID := as.waitRunStep(o, wfID, "post", store.StepFailed)
	if got := o.owner.get("/workflows/runs/" + runID).doc(t).Find("[data-step=post] [data-testid=step-error]").Text(); !strings.Contains(got, "execution") {
		t.Errorf("step error %q", got)
	}
	if n := len(as.threadAgentPosts(o, th.ID)); n != 0 {
		t.Errorf("%d posts", n)
	}
}

// checkWorkflowEditAndImport: the editor imports JSON into its rows
// without saving, refuses a workflow with no steps, saves a plain JSON
// post (a script's) and exports it; names are unique and an unknown
// trigger is named in the refusal.
func checkWorkflowEditAndImport(t *testing.T, as *agentSite, o *agentOrg, loc string) {
	t.Helper()
	// Edit: the JSON imports into the rows without saving.
	edit := o.owner.get(loc + "/edit")
	wantStatus(t, edit, http.StatusOK)
	js := `{"trigger":{"signal":"forum.thread.created","where":{"category_slug":"service"}},"steps":[{"id":"wait","delay":"5m"}]}`
	r := o.owner.post(strings.TrimSuffix(loc, "/edit"), editorForm(t, edit, "import", map[string]string{"definition": js}))
	wantStatus(t, r, http.StatusOK)
	rows := r.doc(t).Find("[data-testid=step-row]")
	if rows.Length() != 1 || rows.AttrOr("data-kind", "") != "delay" || r.doc(t).Find("#wf-where").Text() != "category_slug = service" {
		t.Fatalf("import: %d rows (%s), where %q", rows.Length(), rows.AttrOr("data-kind", ""), r.doc(t).Find("#wf-where").Text())
	}
	wf, err := as.store.Workflow(ctx, o.tenant, strings.TrimPrefix(loc, "/workflows/"))
	if err != nil || !strings.Contains(string(wf.Definition), "approval") {
		t.Errorf("import saved the workflow: %s %v", wf.Definition, err)
	}
	// Remove the only step and save: 422, "has no steps".
	r = o.owner.post(loc, editorForm(t, r, "remove:0", nil))
	wantStatus(t, r, http.StatusOK)
	r = o.owner.post(loc, editorForm(t, r, "save", nil))
	wantRefused(t, r, "no steps")

	// A plain post of the JSON alone (a script) saves it as it is; the
	// page exports it.
	r = o.owner.post(loc, url.Values{"name": {"Triage"}, "definition": {js}})
	wantStatus(t, r, http.StatusSeeOther)
	if out := o.owner.get(loc).doc(t).Find("[data-testid=workflow-json]").Text(); !strings.Contains(out, `"delay": "5m"`) {
		t.Errorf("export: %s", out)
	}
	// Names are unique; an unknown trigger is refused in words.
	wantStatus(t, o.owner.post("/workflows", url.Values{"name": {"triage"}, "definition": {js}}), http.StatusUnprocessableEntity)
	r = o.owner.post("/workflows", url.Values{"name": {"Other"}, "definition": {strings.Replace(js, "forum.thread.created", "user.sneezed", 1)}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.Body, "user.sneezed") {
		t.Error("the unknown trigger is not named")
	}
}
