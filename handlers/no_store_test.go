package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetprompt/store/storetest"
)

// Signed-in HTML, and any response that sets a cookie, is Cache-Control:
// no-store; visitors' pages without cookies and static assets are not.
func TestSignedInAndCookieResponsesAreNoStore(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	visitor := s.client()
	home := visitor.get("/")
	wantStatus(t, home, http.StatusOK)
	if cc := home.Header.Get("Cache-Control"); strings.Contains(cc, "no-store") {
		t.Errorf("a visitor's page without cookies is no-store: %q", cc)
	}
	css, ok := home.doc(t).Find(`link[rel=stylesheet]`).Attr("href")
	if !ok {
		t.Fatal("no stylesheet link")
	}
	if cc := visitor.get(css).Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("static asset Cache-Control %q, want its long cache", cc)
	}

	slug := storetest.Name("nostore")
	c := s.client()
	r := c.post("/register", url.Values{"org_name": {"Org"}, "org_slug": {slug}, "name": {"Owner"},
		"email": {slug + "@example.com"}, "password": {"password123"}})
	wantStatus(t, r, http.StatusSeeOther) // sets the session cookie; no body
	wantNoStore(t, r, "the sign-up redirect that sets the cookie")
	wantNoStore(t, c.get("/dashboard"), "GET /dashboard")
	wantNoStore(t, c.get("/forums", "HX-Request", "true"), "an htmx fragment")
	wantNoStore(t, c.get("/no-such-page"), "a signed-in 404")
	wantNoStore(t, c.get("/login"), "GET /login signed in (a redirect)")
	if cc := c.get(css).Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("static asset for a signed-in user: Cache-Control %q", cc)
	}
	wantNoStore(t, c.post("/logout", nil), "the sign-out that clears the cookie")
}

func wantNoStore(t *testing.T, r *response, what string) {
	t.Helper()
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
	}
}
