package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"fleetprompt/store/storetest"
)

func TestCreateSecondOrganizationAndSwitch(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	first := storetest.Name("one")
	c.register(first)
	second := storetest.Name("two")
	r := c.post("/orgs", url.Values{"org_name": {"Second"}, "org_slug": {second}})
	wantStatus(t, r, http.StatusSeeOther)

	d := c.get("/dashboard").doc(t)
	if got := text(d, "[data-testid=tenant-badge]"); got != "org_"+second {
		t.Errorf("after creating, current org badge %q", got)
	}
	if n := d.Find(".org-switcher option").Length(); n != 2 {
		t.Errorf("org switcher has %d options, want 2", n)
	}
	r = c.post("/org/select", url.Values{"slug": {first}})
	wantStatus(t, r, http.StatusSeeOther)
	if got := text(c.get("/dashboard").doc(t), "[data-testid=tenant-badge]"); got != "org_"+first {
		t.Errorf("after switching, badge %q", got)
	}

	r = c.post("/orgs", url.Values{"org_name": {"Dup"}, "org_slug": {first}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if text(r.doc(t), "#field-org_slug .error") == "" {
		t.Error("duplicate slug without a message")
	}
}

func TestForeignOrganizationCannotBeSelected(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	mine, theirs := storetest.Name("mine"), storetest.Name("theirs")
	c := s.client()
	c.register(mine)
	s.client().register(theirs)

	wantStatus(t, c.post("/org/select", url.Values{"slug": {theirs}}), http.StatusNotFound)
	wantStatus(t, c.post("/org/select", url.Values{"slug": {"no_such_org"}}), http.StatusNotFound)
	if got := text(c.get("/dashboard").doc(t), "[data-testid=tenant-badge]"); got != "org_"+mine {
		t.Errorf("badge %q after refused switch", got)
	}
	// Visitors cannot select anything either.
	wantStatus(t, s.client().post("/org/select", url.Values{"slug": {mine}}), http.StatusSeeOther)
}

func TestDisabledMembershipGrantsNothing(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	slug := storetest.Name("dis")
	c := s.client()
	c.register(slug)
	if _, err := s.store.DB.ExecContext(ctx, `UPDATE organization_memberships SET status = 'disabled'
		WHERE organization_id = (SELECT id FROM organizations WHERE slug = $1)`, slug); err != nil {
		t.Fatal(err)
	}
	r := c.get("/dashboard")
	wantStatus(t, r, http.StatusForbidden)
	if r.doc(t).Find("[data-testid=tenant-badge]").Length() != 0 {
		t.Error("a disabled member still sees the tenant")
	}
}
