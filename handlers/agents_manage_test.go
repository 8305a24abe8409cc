package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetprompt/store"
)

func TestAgentFormCreatesEditsAndArchives(t *testing.T) {
	t.Parallel()
	as := newAgentSite(t, nil, "")
	o := as.newOrg("agform")
	id := o.createAgent(t, "Release Notes Writer")
	a, err := as.store.AgentByID(ctx, o.tenant, id)
	if err != nil || a.State != store.AgentDraft || a.Handle != "release-notes-writer" {
		t.Fatalf("created %+v %v", a, err)
	}
	// Names are unique, whatever the case; the form comes back with the
	// input kept and the message on the field.
	r := o.owner.post("/agents", url.Values{"name": {"release notes WRITER"}, "temperature": {"7"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := r.doc(t)
	if !strings.Contains(text(d, "#field-name .error"), "another agent") || !strings.Contains(text(d, "#field-temperature .error"), "from 0 to 2") {
		t.Errorf("errors: name %q temperature %q", text(d, "#field-name .error"), text(d, "#field-temperature .error"))
	}
	if v, _ := d.Find("#name").Attr("value"); v != "release notes WRITER" {
		t.Errorf("input not kept: %q", v)
	}
	// htmx checks one field inline.
	r = o.owner.post("/agents/validate", url.Values{"_field": {"handle"}, "name": {"x"}, "handle": {"Bad Handle"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(text(r.doc(t), "#field-handle .error"), "lowercase") {
		t.Errorf("inline check: %s", r.Body)
	}
	// Members read agents but do not manage them.
	wantStatus(t, o.member.post("/agents", url.Values{"name": {"Sneaky"}}), http.StatusForbidden)
	wantStatus(t, o.member.get("/agents/"+id+"/edit"), http.StatusForbidden)

	// Edit: a new handle; another agent's handle is refused.
	other := o.createAgent(t, "Triage")
	r = o.owner.post("/agents/"+id, url.Values{"name": {"Release Notes Writer"}, "handle": {"notes"}, "system_prompt": {"Write release notes."}})
	wantStatus(t, r, http.StatusSeeOther)
	if a, _ = as.store.AgentByID(ctx, o.tenant, id); a.Handle != "notes" || a.SystemPrompt != "Write release notes." {
		t.Errorf("edited %+v", a)
	}
	wantStatus(t, o.owner.post("/agents/"+other, url.Values{"name": {"Triage"}, "handle": {"notes"}}), http.StatusUnprocessableEntity)

	// Archive: gone from the list, its name free again.
	wantStatus(t, o.owner.post("/agents/"+id+"/archive", nil), http.StatusSeeOther)
	if o.owner.get("/agents").doc(t).Find(`[data-testid=agent][data-id="`+id+`"]`).Length() != 0 {
		t.Error("an archived agent is listed")
	}
	o.createAgent(t, "Release Notes Writer")
	names := signalNamesOf(t, as.store, o.tenant, "agent.")
	for _, want := range []string{"agent.created", "agent.updated", "agent.archived"} {
		if !strings.Contains(names, want) {
			t.Errorf("no %s signal in %s", want, names)
		}
	}
}

// signalNamesOf lists the tenant's signals whose names start with prefix.
func signalNamesOf(t *testing.T, st *store.Store, tn store.Tenant, prefix string) string {
	t.Helper()
	var names []string
	if err := st.DB.Select(&names, tn.SQL(`SELECT name FROM {tenant}.signals WHERE name LIKE $1 ORDER BY seq`), prefix+"%"); err != nil {
		t.Fatal(err)
	}
	return strings.Join(names, " ")
}

func TestOnlyActiveAgentsRun(t *testing.T) {
	t.Parallel()
	as := newAgentSite(t, nil, "")
	o := as.newOrg("agactive")
	id := o.createAgent(t, "Newcomer")
	r := o.member.post("/agents/"+id+"/executions", url.Values{"input": {"Hello?"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.Body, "is a draft") {
		t.Errorf("refusal: %s", text(r.doc(t), "[data-testid=run-panel]"))
	}
	var n int
	as.store.DB.Get(&n, o.tenant.SQL(`SELECT count(*) FROM {tenant}.agent_executions`))
	if n != 0 {
		t.Errorf("%d executions recorded for a refused run", n)
	}
}
