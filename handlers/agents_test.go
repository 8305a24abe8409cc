package handlers_test

import (
	"net/http"
	"testing"

	"fleetprompt/store/storetest"
)

func TestAgentsListAndDetail(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	a, b := storetest.Name("aga"), storetest.Name("agb")
	ownerA, ownerB := ms.client(), ms.client()
	ownerA.register(a)
	ownerB.register(b)
	tn := ms.tenant(a)
	var draft, active string
	ms.store.DB.Get(&draft, tn.SQL(`INSERT INTO {tenant}.agents (name, system_prompt) VALUES ('Drafty', 'Draft prompt.') RETURNING id`))
	ms.store.DB.Get(&active, tn.SQL(`INSERT INTO {tenant}.agents (name, system_prompt, state, package_slug) VALUES ('Busy', 'You are busy.', 'active', 'starter-agents') RETURNING id`))

	member := ms.addMember(a)
	r := member.get("/agents")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if got := text(d, "[data-testid=agent-total]"); got != "2" {
		t.Errorf("total %q", got)
	}
	if d.Find(`[data-testid=agent-group][data-state=draft] [data-id="`+draft+`"]`).Length() != 1 ||
		d.Find(`[data-testid=agent-group][data-state=active] [data-id="`+active+`"]`).Length() != 1 {
		t.Error("agents not grouped by state")
	}

	r = member.get("/agents/" + active)
	wantStatus(t, r, http.StatusOK)
	d = r.doc(t)
	if text(d, "[data-testid=agent-state]") != "active" || text(d, "[data-testid=agent-prompt]") != "You are busy." {
		t.Errorf("detail: state %q prompt %q", text(d, "[data-testid=agent-state]"), text(d, "[data-testid=agent-prompt]"))
	}
	if got := text(d, "[data-testid=agent-config]"); got == "" {
		t.Error("config missing")
	}

	// Another organization's agent id, and a malformed one, are not found.
	wantStatus(t, ownerB.get("/agents/"+active), http.StatusNotFound)
	wantStatus(t, ownerA.get("/agents/not-a-uuid"), http.StatusNotFound)
	wantStatus(t, ownerA.get("/agents/00000000-0000-0000-0000-000000000000"), http.StatusNotFound)
	if n := ownerB.get("/agents").doc(t).Find("[data-testid=agent]").Length(); n != 0 {
		t.Errorf("org B lists %d agents", n)
	}
	r = ms.client().get("/agents/" + active)
	if r.StatusCode != http.StatusSeeOther {
		t.Errorf("visitor: %d", r.StatusCode)
	}
}
