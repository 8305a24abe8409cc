package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"fleetprompt/store/storetest"
)

// Disabling a member ends their open event streams at once, not at the
// hub's periodic re-check.
func TestDisablingMemberEndsTheirStreams(t *testing.T) {
	s, _ := newLiveSite(t, nil)
	owner, member := s.client(), s.client()
	org, other := storetest.Name("dsown"), storetest.Name("dsmem")
	owner.register(org)
	member.register(other)
	wantStatus(t, owner.post("/admin/members", url.Values{"email": {other + "@example.com"}, "role": {"member"}}), http.StatusSeeOther)
	wantStatus(t, member.post("/org/select", url.Values{"slug": {org}}), http.StatusSeeOther)

	st := member.stream(t, "/events?topic=tenant")
	u, err := s.store.UserByEmail(ctx, other+"@example.com")
	if err != nil {
		t.Fatal(err)
	}
	r := owner.post("/admin/members/"+strconv.FormatInt(u.ID, 10), url.Values{"status": {"disabled"}})
	wantStatus(t, r, http.StatusSeeOther)
	st.waitEnd(t)
}
