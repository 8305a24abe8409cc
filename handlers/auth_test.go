package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetprompt/store/storetest"
)

func TestRegisterSignsInAndShowsDashboard(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	slug := storetest.Name("reg")
	c.register(slug)

	var cookie *http.Cookie
	for _, ck := range c.http.Jar.Cookies(mustURL(s.srv.URL)) {
		if ck.Name == "fp_session" {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie after registration")
	}
	r := c.get("/dashboard")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if got := text(d, "[data-testid=tenant-badge]"); got != "org_"+slug {
		t.Errorf("tenant badge %q", got)
	}
	if got := text(d, "[data-testid=role]"); got != "owner" {
		t.Errorf("role %q", got)
	}
	if !strings.Contains(text(d, ".flash"), "is ready") {
		t.Errorf("welcome flash missing: %q", text(d, ".flash"))
	}
	if d.Find(`nav a[href="/admin"]`).Length() != 1 {
		t.Error("owner should see the Admin link")
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	slug := storetest.Name("ck")
	r := s.client().post("/register", url.Values{"org_name": {"X"}, "org_slug": {slug}, "name": {"X"}, "email": {slug + "@example.com"}, "password": {"password123"}})
	wantStatus(t, r, http.StatusSeeOther)
	set := r.Header.Get("Set-Cookie")
	for _, want := range []string{"fp_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("plain HTTP must not set Secure: %q", set)
	}
	r = s.client().post("/register", url.Values{"org_name": {"X"}, "org_slug": {slug + "b"}, "name": {"X"}, "email": {slug + "b@example.com"}, "password": {"password123"}}, "X-Forwarded-Proto", "https")
	if !strings.Contains(r.Header.Get("Set-Cookie"), "Secure") {
		t.Errorf("behind TLS the cookie must be Secure: %q", r.Header.Get("Set-Cookie"))
	}
}

func TestRegisterInvalidKeepsInputWith422(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	taken := storetest.Name("taken")
	s.client().register(taken)

	for name, tc := range map[string]struct {
		form  url.Values
		field string
	}{
		"malformed slug": {url.Values{"org_name": {"Acme"}, "org_slug": {"Bad Slug"}, "name": {"A"}, "email": {"a@example.com"}, "password": {"password123"}}, "org_slug"},
		"taken slug":     {url.Values{"org_name": {"Acme"}, "org_slug": {taken}, "name": {"A"}, "email": {"b@example.com"}, "password": {"password123"}}, "org_slug"},
		"short password": {url.Values{"org_name": {"Acme"}, "org_slug": {storetest.Name("pw")}, "name": {"A"}, "email": {"c@example.com"}, "password": {"short"}}, "password"},
		"bad email":      {url.Values{"org_name": {"Acme"}, "org_slug": {storetest.Name("em")}, "name": {"A"}, "email": {"not-an-email"}, "password": {"password123"}}, "email"},
		"blank name":     {url.Values{"org_name": {""}, "org_slug": {""}, "name": {"A"}, "email": {"d@example.com"}, "password": {"password123"}}, "org_name"},
	} {
		t.Run(name, func(t *testing.T) {
			r := s.client().post("/register", tc.form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			d := r.doc(t)
			if msg := text(d, "#field-"+tc.field+" .error"); msg == "" {
				t.Errorf("no message for %s", tc.field)
			}
			if v, _ := d.Find("#org_name").Attr("value"); v != tc.form.Get("org_name") {
				t.Errorf("org_name not kept: %q", v)
			}
			if d.Find("#password").AttrOr("value", "") != "" {
				t.Error("password must not be echoed back")
			}
			if d.Find("html").Length() == 0 {
				t.Error("a plain post must get the whole page")
			}
		})
	}
}

func TestRegisterWithHTMXGetsFragmentAndRedirectHeader(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.client().post("/register", url.Values{"org_name": {"Acme"}, "org_slug": {"x"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="register-form"`) {
		t.Errorf("htmx should get only the form fragment:\n%s", r.Body)
	}
	if r.Header.Get("Vary") != "HX-Request" {
		t.Errorf("Vary = %q", r.Header.Get("Vary"))
	}
	slug := storetest.Name("hx")
	r = s.client().post("/register", url.Values{"org_name": {"Acme"}, "org_slug": {slug}, "name": {"A"}, "email": {slug + "@example.com"}, "password": {"password123"}}, "HX-Request", "true")
	if r.Header.Get("HX-Redirect") != "/dashboard" {
		t.Errorf("htmx success: status %d HX-Redirect %q", r.StatusCode, r.Header.Get("HX-Redirect"))
	}
}

func TestRegisterInlineValidationAndDebugPanel(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	taken := storetest.Name("inl")
	s.client().register(taken)
	r := s.client().post("/register/validate", url.Values{"_field": {"org_slug"}, "org_name": {"X"}, "org_slug": {taken}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if d := r.doc(t); !strings.Contains(text(d, "#field-org_slug .error"), "already taken") {
		t.Errorf("inline validation should say the slug is taken:\n%s", r.Body)
	}

	r = s.client().get("/register?fp_debug=1")
	wantStatus(t, r, http.StatusOK)
	if r.doc(t).Find("[data-testid=debug-panel]").Length() != 1 {
		t.Error("debug panel missing with fp_debug=1")
	}
	if s.client().get("/register").doc(t).Find("[data-testid=debug-panel]").Length() != 0 {
		t.Error("debug panel shown without fp_debug")
	}
	r = s.client().post("/register?fp_debug=1", url.Values{"org_name": {"Big Co"}, "org_slug": {""}, "name": {""}, "email": {"x@example.com"}, "password": {"password123"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := r.doc(t)
	if got := text(d, "[data-testid=debug-tenant]"); got != "org_big_co" {
		t.Errorf("debug tenant %q, want org_big_co", got)
	}
	if !strings.Contains(text(d, "[data-testid=debug-errors]"), "name: can't be blank") {
		t.Errorf("debug errors: %q", text(d, "[data-testid=debug-errors]"))
	}
	if got := text(d, "[data-testid=debug-can-submit]"); got != "false" {
		t.Errorf("can submit %q", got)
	}
}

func TestLoginSameMessageForUnknownEmailAndWrongPassword(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	slug := storetest.Name("lg")
	s.client().register(slug)
	a := s.client().login(slug+"@example.com", "wrong-password")
	b := s.client().login("nobody-"+slug+"@example.com", "password123")
	wantStatus(t, a, http.StatusUnprocessableEntity)
	wantStatus(t, b, http.StatusUnprocessableEntity)
	if ma, mb := text(a.doc(t), ".form-error"), text(b.doc(t), ".form-error"); ma != mb || ma == "" {
		t.Errorf("messages differ: %q vs %q", ma, mb)
	}
	if v := a.doc(t).Find("#email").AttrOr("value", ""); v != slug+"@example.com" {
		t.Errorf("email not kept: %q", v)
	}
	ok := s.client().login(slug+"@example.com", "password123")
	wantStatus(t, ok, http.StatusSeeOther)
}

// Throttling is tested in throttle_test.go.

func TestLoginRedirectsOnlyToLocalPaths(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	slug := storetest.Name("rd")
	s.client().register(slug)
	for target, want := range map[string]string{
		"/forums?x=1":          "/forums?x=1",
		"https://evil.example": "/dashboard",
		"//evil.example/x":     "/dashboard",
		"/\\evil.example":      "/dashboard",
		"javascript:alert(1)":  "/dashboard",
	} {
		r := s.client().post("/login", url.Values{"email": {slug + "@example.com"}, "password": {"password123"}, "redirect_to": {target}})
		if got := r.Header.Get("Location"); got != want {
			t.Errorf("redirect_to %q → %q, want %q", target, got, want)
		}
	}
}

func TestVisitorIsSentToLogin(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.client().get("/dashboard")
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != "/login?redirect_to=%2Fdashboard" {
		t.Errorf("Location %q", got)
	}
}

func TestCopiedCookieIsDeadAfterSignOut(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.register(storetest.Name("so"))
	// A thief copies the cookie.
	thief := s.client()
	thief.http.Jar.SetCookies(mustURL(s.srv.URL), c.http.Jar.Cookies(mustURL(s.srv.URL)))
	wantStatus(t, thief.get("/dashboard"), http.StatusOK)

	wantStatus(t, c.post("/logout", nil), http.StatusSeeOther)
	wantStatus(t, thief.get("/dashboard"), http.StatusSeeOther)
	wantStatus(t, c.get("/dashboard"), http.StatusSeeOther)
}

func TestLogoutWithDelete(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.register(storetest.Name("del"))
	req, _ := http.NewRequest(http.MethodDelete, s.srv.URL+"/logout", nil)
	req.Header.Set("HX-Request", "true")
	r := c.do(req)
	if r.Header.Get("HX-Redirect") != "/" {
		t.Errorf("DELETE /logout via htmx: %d %q", r.StatusCode, r.Header.Get("HX-Redirect"))
	}
	wantStatus(t, c.get("/dashboard"), http.StatusSeeOther)
}

func TestCrossSitePostIsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	slug := storetest.Name("cs")
	r := s.client().post("/register", url.Values{"org_name": {"X"}, "org_slug": {slug}, "name": {"X"}, "email": {slug + "@example.com"}, "password": {"password123"}},
		"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	wantStatus(t, r, http.StatusForbidden)
	if _, err := s.store.OrganizationBySlug(ctx, slug); err == nil {
		t.Error("a cross-site post created an organization")
	}
	r = s.client().post("/login", url.Values{"email": {"a@b.c"}}, "Origin", "https://evil.example")
	wantStatus(t, r, http.StatusForbidden)
	// Same-origin posts from the browser pass.
	r = s.client().post("/login", url.Values{"email": {"a@example.com"}, "password": {"x"}}, "Sec-Fetch-Site", "same-origin")
	wantStatus(t, r, http.StatusUnprocessableEntity)
}

func TestSecurityHeadersAndErrorPages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.client().get("/")
	wantStatus(t, r, http.StatusOK)
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("missing security headers")
	}
	if r.doc(t).Find("script:not([src])").Length() != 0 {
		t.Error("inline script in the page")
	}
	nf := s.client().get("/no/such/page")
	wantStatus(t, nf, http.StatusNotFound)
	if text(nf.doc(t), ".error-page h1") != "Not found" {
		t.Errorf("404 page: %s", nf.Body)
	}
	// Hashed assets are served with long cache lifetimes.
	href, _ := r.doc(t).Find(`link[rel=stylesheet]`).Attr("href")
	css := s.client().get(href)
	wantStatus(t, css, http.StatusOK)
	if !strings.Contains(css.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("asset Cache-Control %q", css.Header.Get("Cache-Control"))
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.client().get("/healthz")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.Body, `"database":"ok"`) {
		t.Errorf("healthz body %s", r.Body)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
