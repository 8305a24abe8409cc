package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// invite makes an invitation from the members page, as an admin does
// without JavaScript: the 303 back, then the page showing the link once.
// It returns the link and the invitation's id.
func (c *client) invite(t *testing.T, email, role string) (link, invitationID string) {
	t.Helper()
	r := c.post("/admin/invitations", url.Values{"email": {email}, "role": {role}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/admin/members" {
		t.Fatalf("invite %s: %d %s\n%.1500s", email, r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	page := c.get("/admin/members")
	wantStatus(t, page, http.StatusOK)
	d := page.doc(t)
	link, _ = d.Find(`[data-testid=invite-link]`).Attr("value")
	invitationID, _ = d.Find(`[data-testid=member-row][data-email="` + email + `"]`).Attr("data-invitation-id")
	if link == "" || invitationID == "" {
		t.Fatalf("the members page shows no link (%q) or row (%q) for %s", link, invitationID, email)
	}
	return link, invitationID
}

// path is a link's path on the test server.
func linkPath(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/invite/") {
		t.Fatalf("invitation link %q", link)
	}
	return u.Path
}

// The whole journey over HTTP: an admin invites, the link is shown once,
// a newcomer sets name and password (a bad one first), lands on the
// inviting organization's dashboard with the invited role, and the link
// is used up.
func TestInvitationSignsANewcomerIn(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner := s.client()
	slug := storetest.Name("inv")
	owner.register(slug)
	email := storetest.Name("newcomer") + "@example.com"
	link, _ := owner.invite(t, email, store.RoleAdmin)
	if !strings.HasPrefix(link, s.srv.URL+"/invite/") || len(linkPath(t, link)) < len("/invite/")+43 {
		t.Errorf("link %q: want an absolute /invite/<token> with 32 random bytes", link)
	}
	again := owner.get("/admin/members").doc(t)
	if again.Find(`[data-testid=invite-link]`).Length() != 0 {
		t.Error("the link is shown a second time")
	}
	row := again.Find(`[data-testid=member-row][data-email="` + email + `"]`)
	if text(again, `[data-email="`+email+`"] [data-testid=member-status]`) == "" || !strings.Contains(row.Text(), "invited") {
		t.Errorf("the invited row: %q", row.Text())
	}

	newcomer := s.client()
	r := newcomer.get(linkPath(t, link))
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if got := text(d, `[data-testid=invite-org]`); got != "Org "+slug {
		t.Errorf("invitation names org %q", got)
	}
	if got := text(d, `[data-testid=invite-role]`); got != store.RoleAdmin {
		t.Errorf("invitation names role %q", got)
	}
	if v, _ := d.Find(`#invite-email`).Attr("value"); v != email {
		t.Errorf("email field %q, want the invited %q", v, email)
	}
	r = newcomer.post(linkPath(t, link), url.Values{"name": {"Nia Newcomer"}, "password": {"short"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if d := r.doc(t); text(d, `#field-password .error`) == "" {
		t.Error("no message on the password")
	} else if v, _ := d.Find(`#name`).Attr("value"); v != "Nia Newcomer" {
		t.Errorf("name not kept: %q", v)
	}
	r = newcomer.post(linkPath(t, link), url.Values{"name": {"Nia Newcomer"}, "password": {"password123"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/dashboard" {
		t.Fatalf("accept: %d %s\n%.1000s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	dash := newcomer.get("/dashboard")
	wantStatus(t, dash, http.StatusOK)
	if dd := dash.doc(t); text(dd, `[data-testid=tenant-badge]`) != "org_"+slug || text(dd, `[data-testid=role]`) != store.RoleAdmin {
		t.Errorf("dashboard of %q as %q", text(dd, `[data-testid=tenant-badge]`), text(dd, `[data-testid=role]`))
	}
	if st := text(owner.get("/admin/members").doc(t), `[data-email="`+email+`"] [data-testid=member-status]`); st != "active" {
		t.Errorf("member status %q after joining", st)
	}
	// Used up, for anyone.
	for _, c := range []*client{s.client(), newcomer} {
		r = c.get(linkPath(t, link))
		wantStatus(t, r, http.StatusGone)
		if !strings.Contains(r.Body, "was used") {
			t.Errorf("the used link's page: %.500s", r.Body)
		}
		wantStatus(t, c.post(linkPath(t, link), url.Values{"name": {"X"}, "password": {"password123"}}), http.StatusGone)
	}
	wantStatus(t, s.client().get("/invite/"+strings.Repeat("A", 43)), http.StatusNotFound)
	wantStatus(t, s.client().get("/invite/short"), http.StatusNotFound)
}

// With htmx the members page swaps in place with the link in it; a bad
// email is a 422 whose message sits on the invite form, not the add form.
func TestInviteFormWithHTMX(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner := s.client()
	owner.register(storetest.Name("invx"))
	r := owner.post("/admin/invitations", url.Values{"email": {"nope"}, "role": {"member"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := r.doc(t)
	if strings.Contains(r.Body, "<html") {
		t.Error("htmx got a whole page")
	}
	if text(d, `#invite-email-error`) == "" || d.Find(`#member-add .error`).Length() != 0 {
		t.Errorf("messages: invite %q, add form %q", text(d, `#invite-email-error`), text(d, `#member-add .error`))
	}
	if v, _ := d.Find(`#invite-email`).Attr("value"); v != "nope" {
		t.Errorf("input not kept: %q", v)
	}
	email := storetest.Name("hx") + "@example.com"
	r = owner.post("/admin/invitations", url.Values{"email": {email}, "role": {"member"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if link, _ := r.doc(t).Find(`[data-testid=invite-link]`).Attr("value"); !strings.Contains(link, "/invite/") {
		t.Errorf("no link in the swapped page: %q", link)
	}
	if owner.get("/admin/members").doc(t).Find(`[data-testid=invite-link]`).Length() != 0 {
		t.Error("the htmx link shows again on the next load")
	}
}

// Someone with an account: signed in with the invited email, one button;
// signed in as someone else, told to sign out (403, nothing about the
// organization); not signed in, asked to sign in (no second account).
func TestInvitationForExistingAccount(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	owner := as.client()
	slug := storetest.Name("invex")
	owner.register(slug)
	invited, email, _ := as.newUser("invited")
	stranger, _, _ := as.newUser("stranger")
	link, _ := owner.invite(t, email, store.RoleMember)
	path := linkPath(t, link)

	r := stranger.get(path)
	wantStatus(t, r, http.StatusForbidden)
	if strings.Contains(r.Body, "Org "+slug) || strings.Contains(r.Body, email) {
		t.Error("the wrong person learns whom the invitation is for")
	}
	wantStatus(t, stranger.post(path, nil), http.StatusForbidden)

	visitor := as.client()
	r = visitor.get(path)
	wantStatus(t, r, http.StatusOK)
	href, _ := r.doc(t).Find(`[data-testid=invite-signin]`).Attr("href")
	if u, err := url.Parse(href); err != nil || u.Path != "/login" || u.Query().Get("redirect_to") != path {
		t.Errorf("sign-in link %q", href)
	}
	r = visitor.post(path, url.Values{"name": {"Copy Cat"}, "password": {"password123"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	// Signing in from there comes back to the link.
	r = visitor.post("/login", url.Values{"email": {email}, "password": {"password123"}, "redirect_to": {path}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != path {
		t.Errorf("sign-in from the invitation: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	r = invited.get(path)
	wantStatus(t, r, http.StatusOK)
	if r.doc(t).Find(`[data-testid=invite-accept]`).Length() != 1 {
		t.Fatal("no accept button for the invited user")
	}
	r = invited.post(path, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/dashboard" {
		t.Fatalf("accept: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if d := invited.get("/dashboard").doc(t); text(d, `[data-testid=tenant-badge]`) != "org_"+slug || text(d, `[data-testid=role]`) != store.RoleMember {
		t.Errorf("after accepting: %q as %q", text(d, `[data-testid=tenant-badge]`), text(d, `[data-testid=role]`))
	}
}

func TestRevokedAndExpiredInvitations(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner := s.client()
	owner.register(storetest.Name("invrv"))
	email := storetest.Name("rv") + "@example.com"
	link, id := owner.invite(t, email, store.RoleMember)
	r := owner.post("/admin/invitations/"+id+"/revoke", url.Values{"return_to": {"/admin/members"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	d := owner.get("/admin/members").doc(t)
	if d.Find(`[data-email="`+email+`"]`).Length() != 0 {
		t.Error("the revoked invitation is still listed")
	}
	r = s.client().get(linkPath(t, link))
	wantStatus(t, r, http.StatusGone)
	if !strings.Contains(r.Body, "withdrawn") {
		t.Errorf("revoked link's page: %.400s", r.Body)
	}
	wantStatus(t, owner.post("/admin/invitations/999999999/revoke", nil), http.StatusNotFound)
	wantStatus(t, owner.post("/admin/invitations/abc/revoke", nil), http.StatusNotFound)

	link, id = owner.invite(t, storetest.Name("ex")+"@example.com", store.RoleMember)
	if _, err := s.store.DB.ExecContext(ctx, `UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	r = s.client().get(linkPath(t, link))
	wantStatus(t, r, http.StatusGone)
	if !strings.Contains(r.Body, "expired") {
		t.Errorf("expired link's page: %.400s", r.Body)
	}
	if !strings.Contains(owner.get("/admin/members").Body, "link expired") {
		t.Error("the members page does not say the link expired")
	}
}
