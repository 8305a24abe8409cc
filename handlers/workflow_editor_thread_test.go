package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

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
