package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"fleetprompt/store/storetest"
)

// The reported open redirect: "/x/../\evil.com" looked local, and
// http.Redirect's cleaning turned it into "Location: /\evil.com", which
// browsers follow to evil.com. Each redirect that takes a target from the
// request now lands on the fallback instead.
func TestHostileRedirectTargetsStayOnSite(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	slug := storetest.Name("redir")
	c := s.client()
	c.register(slug)
	hostile := []string{`/x/../\evil.example`, `/%5Cevil.example`, "/\t/evil.example", `/%2F/evil.example`}
	for _, target := range hostile {
		// GET /login when already signed in.
		r := c.get("/login?redirect_to=" + url.QueryEscape(target))
		wantLocation(t, r, "/dashboard", "GET /login", target)
		// POST /login, both the redirect and the form's hidden field.
		r = s.client().post("/login", url.Values{"email": {slug + "@example.com"}, "password": {"password123"}, "redirect_to": {target}})
		wantLocation(t, r, "/dashboard", "POST /login", target)
		// POST /org/select.
		r = c.post("/org/select", url.Values{"slug": {slug}, "redirect_to": {target}})
		wantLocation(t, r, "/dashboard", "POST /org/select", target)
	}
	d := s.client().get("/login?redirect_to=" + url.QueryEscape(hostile[0])).doc(t)
	if v, _ := d.Find(`input[name=redirect_to]`).Attr("value"); v != "" {
		t.Errorf("the sign-in form carries the hostile target on: %q", v)
	}
	// A local path still works, in its cleaned form.
	r := c.post("/org/select", url.Values{"slug": {slug}, "redirect_to": {"/forums/../marketplace?q=x"}})
	wantLocation(t, r, "/marketplace?q=x", "POST /org/select", "/forums/../marketplace?q=x")
}

func wantLocation(t *testing.T, r *response, want, route, target string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s with redirect_to %q: status %d, want 303", route, target, r.StatusCode)
	}
	if got := r.Header.Get("Location"); got != want {
		t.Errorf("%s with redirect_to %q: Location %q, want %q", route, target, got, want)
	}
}
