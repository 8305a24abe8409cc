package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetprompt/store/storetest"
)

func TestSettingsProfile(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	slug := storetest.Name("set")
	c.register(slug)
	d := c.get("/settings").doc(t)
	if v, _ := d.Find(`#profile-form #name`).Attr("value"); v != "Owner "+slug {
		t.Errorf("name field %q", v)
	}
	if v, _ := d.Find(`#profile-form #handle`).Attr("value"); v != "owner_"+slug {
		t.Errorf("handle field %q, want the one derived at registration", v)
	}

	handle := "p_" + storetest.Name("")
	r := c.post("/settings/profile", url.Values{"name": {"Penny Profile"}, "handle": {"@" + strings.ToUpper(handle)}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/settings" {
		t.Fatalf("save profile: %d %s\n%.800s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	d = c.get("/settings").doc(t)
	if !strings.Contains(text(d, ".flash"), "@"+handle) {
		t.Errorf("flash %q", text(d, ".flash"))
	}
	if got := text(d, `[data-testid=settings-link]`); got != "Penny Profile" {
		t.Errorf("header shows %q after the change", got)
	}
	if href, _ := d.Find(`[data-testid=profile-link]`).Attr("href"); href != "/u/"+handle {
		t.Errorf("profile link %q", href)
	}

	// Per-field messages, input kept; htmx gets the form alone.
	other := s.client()
	other.register(storetest.Name("set"))
	r = other.post("/settings/profile", url.Values{"name": {""}, "handle": {"No Way"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d = r.doc(t)
	if text(d, `#field-name .error`) == "" || text(d, `#field-handle .error`) == "" {
		t.Errorf("messages: name %q, handle %q", text(d, `#field-name .error`), text(d, `#field-handle .error`))
	}
	r = other.post("/settings/profile", url.Values{"name": {"Fine"}, "handle": {handle}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d = r.doc(t)
	if !strings.Contains(text(d, `#field-handle .error`), "taken") {
		t.Errorf("taken handle: %q", text(d, `#field-handle .error`))
	}
	if v, _ := d.Find(`#handle`).Attr("value"); v != handle {
		t.Errorf("handle not kept: %q", v)
	}
	r = other.post("/settings/profile", url.Values{"name": {"Fine"}, "handle": {"no way"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="profile-form"`) || strings.Contains(r.Body, `id="password-form"`) {
		t.Errorf("htmx answer is not the profile form alone:\n%.600s", r.Body)
	}
}

// A password change signs out every other session of the user, in this
// process and another (a second handler on the same database) at once,
// and keeps this one.
func TestPasswordChangeSignsOutOtherSessions(t *testing.T) {
	t.Parallel()
	a, b := twoProcesses(t)
	slug := storetest.Name("pwc")
	me := a.client()
	me.register(slug)
	email := slug + "@example.com"
	laptop := a.client()
	wantStatus(t, laptop.login(email, "password123"), http.StatusSeeOther)
	phone := b.client()
	wantStatus(t, phone.login(email, "password123"), http.StatusSeeOther)
	wantStatus(t, laptop.get("/dashboard"), http.StatusOK) // cached in a
	wantStatus(t, phone.get("/dashboard"), http.StatusOK)  // cached in b
	stream := phone.stream(t, "/events?topic=tenant")

	r := me.post("/settings/password", url.Values{"current_password": {"wrong-one"}, "password": {"new-password-1"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if text(r.doc(t), `#field-current_password .error`) == "" {
		t.Error("no message on the current password")
	}
	r = me.post("/settings/password", url.Values{"current_password": {"password123"}, "password": {"short"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if text(r.doc(t), `#field-password .error`) == "" {
		t.Error("no message on the new password")
	}
	r = me.post("/settings/password", url.Values{"current_password": {"password123"}, "password": {"new-password-1"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d\n%.600s", r.StatusCode, r.Body)
	}
	if f := text(me.get("/settings").doc(t), ".flash"); !strings.Contains(f, "2 other sessions") {
		t.Errorf("flash %q", f)
	}
	wantStatus(t, laptop.get("/dashboard"), http.StatusSeeOther) // this process: at once
	waitSignedOut(t, phone)                                      // the other: on the announcement
	stream.waitEnd(t)
	wantStatus(t, me.get("/dashboard"), http.StatusOK)
	wantStatus(t, a.client().login(email, "password123"), http.StatusUnprocessableEntity)
	wantStatus(t, a.client().login(email, "new-password-1"), http.StatusSeeOther)
}

// twoProcesses is two app processes on one database, each with its live
// hub and session cache.
func twoProcesses(t *testing.T) (*site, *site) {
	t.Helper()
	st := storetest.Store(t)
	a, _ := newLiveSite(t, st)
	b, _ := newLiveSite(t, st)
	return a, b
}

// waitSignedOut waits, well under the session cache's 2 s, for c's
// session to stop working.
func waitSignedOut(t *testing.T, c *client) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for c.get("/dashboard").StatusCode != http.StatusSeeOther {
		if time.Now().After(deadline) {
			t.Fatal("the ended session still works in the other process")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Wrong current passwords count like failed sign-ins of the account.
func TestPasswordChangeIsThrottled(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.register(storetest.Name("pwt"))
	var last *response
	for range 8 {
		last = c.post("/settings/password", url.Values{"current_password": {"guess-guess"}, "password": {"new-password-1"}})
		if last.StatusCode == http.StatusTooManyRequests {
			break
		}
		wantStatus(t, last, http.StatusUnprocessableEntity)
	}
	wantStatus(t, last, http.StatusTooManyRequests)
	if last.Header.Get("Retry-After") == "" || !strings.Contains(last.Body, "Too many") {
		t.Errorf("429 without Retry-After or message: %q", last.Header.Get("Retry-After"))
	}
}

func TestSessionsPageAndRevokeOthers(t *testing.T) {
	t.Parallel()
	a, b := twoProcesses(t)
	slug := storetest.Name("ses")
	me := a.client()
	me.register(slug)
	other := b.client()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/login", strings.NewReader(url.Values{"email": {slug + "@example.com"}, "password": {"password123"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")
	wantStatus(t, other.do(req), http.StatusSeeOther)
	wantStatus(t, other.get("/dashboard"), http.StatusOK)

	d := me.get("/settings/sessions").doc(t)
	rows := d.Find(`[data-testid=session-row]`)
	if rows.Length() != 2 || d.Find(`[data-testid=session-row][data-current] [data-testid=this-session]`).Length() != 1 {
		t.Fatalf("%d sessions listed:\n%s", rows.Length(), text(d, "table"))
	}
	if !strings.Contains(text(d, "table"), "Safari on iOS") || !strings.Contains(text(d, "table"), "Org "+slug) {
		t.Errorf("sessions table: %s", text(d, "table"))
	}
	r := me.post("/settings/sessions/revoke-others", nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/settings/sessions" {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	waitSignedOut(t, other)
	d = me.get("/settings/sessions").doc(t)
	if d.Find(`[data-testid=session-row]`).Length() != 1 || d.Find(`[data-testid=no-other-sessions]`).Length() != 1 {
		t.Errorf("after revoking: %s", text(d, "main"))
	}
}
