package workflow_test

import (
	"errors"
	"strings"
	"testing"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

// supportDef is Support auto-reply as the seed ships it: the draft answers
// in the thread (its text streams there) and the post names the run that
// wrote it. postAs is the post's author.
func supportDef(postAs string) string {
	return `{"trigger": {"signal": "forum.thread.created", "where": {"category_slug": "support"}},
		"steps": [{"id": "draft", "agent": "ticket-manager", "thread": "{{.trigger.thread_id}}",
		  "prompt": "A customer asks:\n{{.trigger.title}}\n\n{{.trigger.body}}\nAnswer briefly."},
		{"id": "post", "needs": ["draft"], "directive": "forum.post.create",
		 "payload": {"thread_id": "{{.trigger.thread_id}}", "body": "{{.steps.draft.output}}", "as_agent": "` + postAs + `",
		             "execution_id": "{{.steps.draft.execution_id}}"}}]}`
}

// An agent step with a thread runs with that thread as its context (so
// the live pages show its text in the thread), and the post made from its
// output links to the run that wrote it.
func TestAgentStepAnswersInItsThread(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.st.DB.MustExec(h.tn.SQL(`INSERT INTO {tenant}.agents (name, state) VALUES ('Ticket Manager', 'active')`))
	cat, _ := h.st.CreateForumCategory(ctx, h.tn, h.user.ID, store.NewForumCategory{Name: "Support", Slug: "support"})
	w := h.workflow("Support auto-reply", supportDef("ticket-manager"))
	th, _, err := h.st.CreateForumThread(ctx, h.tn, h.user.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Printer jams",
		Body: "How do I clear a paper jam?"})
	if err != nil {
		t.Fatal(err)
	}
	run := h.waitRun(w, 1, store.RunSucceeded)
	draft := h.steps(run)["draft"]
	ex, err := h.st.Execution(ctx, h.tn, draft.ExecutionID)
	if err != nil {
		t.Fatal(err)
	}
	if c := ex.Context(); c.ThreadID != th.ID || c.RunID != run.ID {
		t.Errorf("the draft's execution belongs to %+v, want thread %s of run %s", c, th.ID, run.ID)
	}
	var linked []string
	h.st.DB.Select(&linked, h.tn.SQL(`SELECT coalesce(execution_id::text, '') FROM {tenant}.forum_posts
		WHERE thread_id = $1 AND author_type = 'agent'`), th.ID)
	if len(linked) != 1 || linked[0] != ex.ID {
		t.Errorf("agent posts link to %q, want one linking to %s", linked, ex.ID)
	}
}

// A post may only name a run of the agent it is written as.
func TestPostNamesOnlyItsOwnAgentsRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.st.DB.MustExec(h.tn.SQL(`INSERT INTO {tenant}.agents (name, state) VALUES ('Ticket Manager', 'active'), ('Other Agent', 'active')`))
	cat, _ := h.st.CreateForumCategory(ctx, h.tn, h.user.ID, store.NewForumCategory{Name: "Support", Slug: "support"})
	w := h.workflow("Borrowed answer", supportDef("other-agent"))
	th, _, _ := h.st.CreateForumThread(ctx, h.tn, h.user.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Q", Body: "A question?"})
	run := h.waitRun(w, 1, store.RunFailed)
	if post := h.steps(run)["post"]; post.Status != store.StepFailed || !strings.Contains(post.Error, "not a finished run of this agent") {
		t.Errorf("post step %s: %q", post.Status, post.Error)
	}
	var n int
	h.st.DB.Get(&n, h.tn.SQL(`SELECT count(*) FROM {tenant}.forum_posts WHERE thread_id = $1 AND author_type = 'agent'`), th.ID)
	if n != 0 {
		t.Errorf("%d agent posts, want none", n)
	}
}

// Only an agent step answers in a thread.
func TestThreadOnlyOnAgentSteps(t *testing.T) {
	t.Parallel()
	_, err := workflow.Parse(`{"trigger":{"signal":"forum.thread.created"},"steps":[{"id":"wait","delay":"1m","thread":"{{.trigger.thread_id}}"}]}`)
	var v *store.ValidationError
	if !errors.As(err, &v) || !strings.Contains(v.Fields["definition"], `step "wait": only an agent step answers in a thread`) {
		t.Fatalf("thread on a delay: %v", err)
	}
	if _, err := workflow.Parse(`{"trigger":{"signal":"forum.thread.created"},"steps":[{"id":"a","agent":"x","prompt":"p","thread":"{{.trigger.thread_id"}]}`); err == nil {
		t.Fatal("a thread template that does not parse was accepted")
	}
}
