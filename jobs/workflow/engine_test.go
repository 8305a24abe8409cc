package workflow_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/signal"
	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

func TestParseRefusesNamingTheStep(t *testing.T) {
	t.Parallel()
	for def, want := range map[string]string{
		`{"trigger":{"signal":"forum.nothing"},"steps":[{"id":"a","delay":"1m"}]}`:                                                          "not a signal workflows can react to",
		`{"trigger":{"signal":"forum.post.created"},"steps":[]}`:                                                                            "has no steps",
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"a","delay":"1m","agent":"x","prompt":"p"}]}`:                            `step "a" must be exactly one`,
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"a","delay":"1m"},{"id":"a","delay":"2m"}]}`:                             `step "a" appears twice`,
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"a","delay":"1m","needs":["b"]}]}`:                                       `step "a" needs "b"`,
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"a","delay":"1m","needs":["b"]},{"id":"b","delay":"1m","needs":["a"]}]}`: "cycle",
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"a","agent":"x","prompt":"{{.trigger.title"}]}`:                          `step "a"`,
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"a","delay":"soon"}]}`:                                                   `step "a": delay "soon"`,
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"a","delay":"1m"}],"extra":1}`:                                           "not a workflow definition",
	} {
		_, err := workflow.Parse(def)
		var v *store.ValidationError
		if !errors.As(err, &v) || !strings.Contains(v.Fields["definition"], want) {
			t.Errorf("%s: %v, want a message with %q", def, err, want)
		}
	}
}

func TestCheckNamesUnknownAgentsAndKinds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for def, want := range map[string]string{
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"ask","agent":"nobody","prompt":"hi"}]}`:    `step "ask": there is no agent @nobody`,
		`{"trigger":{"signal":"forum.post.created"},"steps":[{"id":"go","directive":"forum.thread.explode"}]}`: `step "go": "forum.thread.explode" is not a directive kind`,
	} {
		_, err := h.wf.ParseAndCheck(ctx, h.tn, def)
		var v *store.ValidationError
		if !errors.As(err, &v) || !strings.Contains(v.Fields["definition"], want) {
			t.Errorf("%v, want %q", err, want)
		}
	}
}

// Steps run in the order their needs give, branches in parallel, a
// false when skips (and what needs only skipped steps still runs); each
// directive's effect happens once.
func TestDAGOrderBranchesAndWhen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workflow("Fan out", `{"trigger":{"signal":"member.added","where":{"role":"admin"}},"steps":[
		{"id":"first","directive":"test.record","payload":{"note":"first {{.trigger.role}}"}},
		{"id":"left","needs":["first"],"directive":"test.record","payload":{"note":"left"}},
		{"id":"right","needs":["first"],"directive":"test.record","payload":{"note":"right"}},
		{"id":"never","needs":["first"],"when":"{{eq .trigger.role \"owner\"}}","directive":"test.record","payload":{"note":"never"}},
		{"id":"last","needs":["left","right","never"],"directive":"test.record","payload":{"note":"last after {{.steps.left.status}}"}}]}`)
	h.emit("member.added", map[string]any{"role": "member"}) // where does not match
	h.emit("member.added", map[string]any{"role": "admin"})
	run := h.waitRun(w, 1, store.RunSucceeded)
	got := h.effects()
	if len(got) != 4 || got[0] != "first admin" || got[3] != "last after succeeded" || !(got[1] == "left" || got[1] == "right") {
		t.Fatalf("effects in order: %v", got)
	}
	steps := h.steps(run)
	if steps["never"].Status != store.StepSkipped || steps["last"].Status != store.StepSucceeded {
		t.Errorf("steps %+v", steps)
	}
	if n := len(h.runs(w)); n != 1 {
		t.Errorf("%d runs for one matching signal", n)
	}
}

// One run per (workflow, signal), even when the signal is delivered again.
func TestOneRunPerWorkflowAndSignal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workflow("Once", `{"trigger":{"signal":"member.added"},"steps":[{"id":"mark","directive":"test.record","payload":{"note":"ran"}}]}`)
	h.emit("member.added", map[string]any{"role": "member"})
	h.waitRun(w, 1, store.RunSucceeded)
	bus := signal.New(signal.Config{Store: h.st, Tenants: []string{h.tn.Schema()}})
	for _, s := range h.wf.Subscribers() {
		bus.Subscribe(s)
	}
	if rep, err := bus.Replay(ctx, signal.ReplayFilter{Tenant: &h.tn, Force: true, Name: "member.added"}); err != nil || rep.Delivered == 0 {
		t.Fatalf("replay %+v %v", rep, err)
	}
	time.Sleep(300 * time.Millisecond)
	if n, e := len(h.runs(w)), h.effects(); n != 1 || len(e) != 1 {
		t.Fatalf("after a replay: %d runs, effects %v", n, e)
	}
}

// An approval waits for a person; approving resumes the run, rejecting
// fails it, and nobody deciding before the timeout fails the step.
func TestApprovalWaitsAndResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workflow("Ask first", `{"trigger":{"signal":"member.added"},"steps":[
		{"id":"ok","approval":{"prompt":"Welcome them?"}},
		{"id":"welcome","needs":["ok"],"directive":"test.record","payload":{"note":"{{.steps.ok.output}}"}}]}`)
	h.emit("member.added", nil)
	run := h.waitRun(w, 1, store.RunWaiting)
	if st := h.steps(run)["ok"]; st.Status != store.StepWaiting || len(h.effects()) != 0 {
		t.Fatalf("before deciding: %+v, effects %v", st, h.effects())
	}
	if err := h.wf.Decide(ctx, h.tn, run.ID, "welcome", true, h.user.ID, "Owner"); err == nil {
		t.Error("a step that is not an approval was approved")
	}
	if err := h.wf.Decide(ctx, h.tn, run.ID, "ok", true, h.user.ID, "Owner"); err != nil {
		t.Fatal(err)
	}
	h.waitRun(w, 1, store.RunSucceeded)
	if got := h.effects(); len(got) != 1 || got[0] != "approved by Owner" {
		t.Errorf("effects %v", got)
	}
	h.emit("member.added", nil)
	run = h.waitRun(w, 2, store.RunWaiting)
	if err := h.wf.Decide(ctx, h.tn, run.ID, "ok", false, h.user.ID, "Owner"); err != nil {
		t.Fatal(err)
	}
	if r := h.waitRun(w, 2, store.RunFailed); h.steps(r)["welcome"].Status != store.StepPending {
		t.Errorf("after a rejection %+v", h.steps(r))
	}

	timed := h.workflow("Ask briefly", `{"trigger":{"signal":"member.role_changed"},"steps":[{"id":"ok","approval":{"timeout":"300ms"}}]}`)
	h.emit("member.role_changed", nil)
	r := h.waitRun(timed, 1, store.RunFailed)
	if st := h.steps(r)["ok"]; !strings.Contains(st.Error, "nobody approved within 300ms") {
		t.Errorf("timed out step %+v", st)
	}
}

// A failed step fails the run; retry runs it again (and what follows),
// keeping the steps that succeeded; cancel skips what is left.
func TestRetryFromTheFailedStepAndCancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fails.Store(true)
	w := h.workflow("Fragile", `{"trigger":{"signal":"member.added"},"steps":[
		{"id":"one","directive":"test.record","payload":{"note":"one"}},
		{"id":"two","needs":["one"],"directive":"test.flaky","payload":{"note":"two"}},
		{"id":"three","needs":["two"],"directive":"test.record","payload":{"note":"three"}}]}`)
	h.emit("member.added", nil)
	run := h.waitRun(w, 1, store.RunFailed)
	if st := h.steps(run)["two"]; st.Status != store.StepFailed || !strings.Contains(st.Error, "refused on purpose") {
		t.Fatalf("failed step %+v", st)
	}
	h.fails.Store(false)
	if err := h.wf.Retry(ctx, h.tn, run.ID, h.user.ID); err != nil {
		t.Fatal(err)
	}
	run = h.waitRun(w, 1, store.RunSucceeded)
	if got := fmt.Sprint(h.effects()); got != "[one two three]" {
		t.Errorf("effects after retry %s (one must not run twice)", got)
	}
	if st := h.steps(run)["two"]; st.Attempt != 2 {
		t.Errorf("retried step attempt %d", st.Attempt)
	}
	if err := h.wf.Retry(ctx, h.tn, run.ID, h.user.ID); err == nil {
		t.Error("a succeeded run was retried")
	}

	slow := h.workflow("Slow", `{"trigger":{"signal":"member.role_changed"},"steps":[{"id":"wait","delay":"1h"},{"id":"after","needs":["wait"],"directive":"test.record","payload":{"note":"late"}}]}`)
	h.emit("member.role_changed", nil)
	r := h.waitRun(slow, 1, store.RunWaiting)
	if _, err := h.wf.Cancel(ctx, h.tn, r.ID, h.user.ID); err != nil {
		t.Fatal(err)
	}
	r = h.waitRun(slow, 1, store.RunCanceled)
	if st := h.steps(r); st["wait"].Status != store.StepSkipped || st["after"].Status != store.StepSkipped {
		t.Errorf("canceled run's steps %+v", st)
	}
}

// A workflow never reacts to what its own runs caused, and a chain of
// workflows reacting to each other stops at depth 5.
func TestCausationGuard(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cat, err := h.st.CreateForumCategory(ctx, h.tn, h.user.ID, store.NewForumCategory{Name: "Loop"})
	if err != nil {
		t.Fatal(err)
	}
	th, _, err := h.st.CreateForumThread(ctx, h.tn, h.user.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Echo", Body: "Start"})
	if err != nil {
		t.Fatal(err)
	}
	// Each reply posts another reply: without the guard, for ever.
	w := h.workflow("Echo", `{"trigger":{"signal":"forum.post.created"},"steps":[
		{"id":"echo","directive":"forum.post.create","payload":{"thread_id":"{{.trigger.thread_id}}","body":"echo"}}]}`)
	if _, _, err := h.st.CreateForumReply(ctx, h.tn, h.user.ID, th.ID, "hello"); err != nil {
		t.Fatal(err)
	}
	h.waitRun(w, 1, store.RunSucceeded)
	time.Sleep(500 * time.Millisecond)
	if n := len(h.runs(w)); n != 1 {
		t.Fatalf("%d runs: the workflow reacted to its own post", n)
	}

	// Two workflows feeding each other stop at depth 5.
	h.st.DB.MustExec(h.tn.SQL(`UPDATE {tenant}.workflows SET enabled = false WHERE id = $1`), w.ID)
	ping := h.workflow("Ping", `{"trigger":{"signal":"workflow.run.succeeded","where":{"workflow_name":"Pong"}},"steps":[{"id":"p","directive":"test.record","payload":{"note":"ping {{.trigger.depth}}"}}]}`)
	pong := h.workflow("Pong", `{"trigger":{"signal":"workflow.run.succeeded","where":{"workflow_name":"Ping"}},"steps":[{"id":"p","directive":"test.record","payload":{"note":"pong {{.trigger.depth}}"}}]}`)
	starter := h.workflow("Starter", `{"trigger":{"signal":"member.added"},"steps":[{"id":"s","directive":"test.record","payload":{"note":"start"}}]}`)
	h.st.DB.MustExec(h.tn.SQL(`UPDATE {tenant}.workflows SET definition = jsonb_set(definition, '{trigger,where}', '{"workflow_name":"Starter"}') WHERE id = $1`), pong.ID)
	h.emit("member.added", nil)
	h.waitRun(starter, 1, store.RunSucceeded)
	time.Sleep(1500 * time.Millisecond)
	total := len(h.runs(ping)) + len(h.runs(pong))
	if total == 0 || total > workflow.MaxDepth {
		t.Fatalf("a chain of %d runs (ping %d, pong %d): want it stopped at depth %d", total, len(h.runs(ping)), len(h.runs(pong)), workflow.MaxDepth)
	}
}

// Enabling past the tier's limit is refused with a message saying so.
func TestEnableLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.st.DB.MustExec(`UPDATE organizations SET tier = 'free' WHERE id = $1`, h.tn.OrgID)
	d, _ := workflow.Parse(`{"trigger":{"signal":"member.added"},"steps":[{"id":"a","delay":"1m"}]}`)
	wf, err := h.st.CreateWorkflow(ctx, h.tn, store.WorkflowSpec{Name: "Nope", Definition: d.JSON(), TriggerSignal: d.Trigger.Signal}, h.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.st.SetWorkflowEnabled(ctx, h.tn, wf.ID, true, h.user.ID)
	var v *store.ValidationError
	if !errors.As(err, &v) || !strings.Contains(v.Fields[""], "free plan includes no workflows") {
		t.Fatalf("enable on free: %v", err)
	}
}

// An agent step's output feeds the next step: the built-in responder
// answers from the forum, and the answer is posted once, as the agent.
func TestAgentStepFeedsTheNextStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.st.DB.MustExec(h.tn.SQL(`INSERT INTO {tenant}.agents (name, state) VALUES ('Ticket Manager', 'active')`))
	cat, _ := h.st.CreateForumCategory(ctx, h.tn, h.user.ID, store.NewForumCategory{Name: "Support", Slug: "support"})
	h.st.CreateForumThread(ctx, h.tn, h.user.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Printer jams",
		Body: "Open the back tray and pull the paper out slowly; then power cycle the printer."})
	w := h.workflow("Support auto-reply", `{"trigger": {"signal": "forum.thread.created", "where": {"category_slug": "support"}},
		"steps": [{"id": "draft", "agent": "ticket-manager", "prompt": "A customer asks:\n{{.trigger.title}}\n\n{{.trigger.body}}\nAnswer briefly."},
		{"id": "post", "needs": ["draft"], "directive": "forum.post.create",
		 "payload": {"thread_id": "{{.trigger.thread_id}}", "body": "{{.steps.draft.output}}", "as_agent": "ticket-manager"}}]}`)
	th, _, err := h.st.CreateForumThread(ctx, h.tn, h.user.ID, store.NewForumThread{CategoryID: cat.ID, Title: "The printer jams again",
		Body: "How do I clear a paper jam in the printer?"})
	if err != nil {
		t.Fatal(err)
	}
	run := h.waitRun(w, 1, store.RunSucceeded)
	steps := h.steps(run)
	if steps["draft"].ExecutionID == "" || !strings.Contains(steps["draft"].Output, "back tray") || steps["post"].DirectiveID == "" {
		t.Fatalf("steps %+v", steps)
	}
	var agentPosts int
	h.st.DB.Get(&agentPosts, h.tn.SQL(`SELECT count(*) FROM {tenant}.forum_posts WHERE thread_id = $1 AND author_type = 'agent'`), th.ID)
	if agentPosts != 1 {
		t.Errorf("%d agent posts in the thread, want 1", agentPosts)
	}
}
