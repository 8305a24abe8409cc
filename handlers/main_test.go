package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/handlers"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
	"fleetprompt/views"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// site is a running app over a real database, for one test.
type site struct {
	t     *testing.T
	srv   *httptest.Server
	store *store.Store
}

func newSite(t *testing.T) *site {
	t.Helper()
	st := storetest.Store(t)
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	rend, err := views.New(assets, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := handlers.New(handlers.Config{Store: st, Views: rend, Assets: assets,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SessionSecret: []byte("test-secret-test-secret-test-secret")})
	srv := httptest.NewServer(h.Routes())
	t.Cleanup(srv.Close)
	return &site{t: t, srv: srv, store: st}
}

// client is one browser: its own cookie jar, redirects not followed so
// tests see the 303s.
type client struct {
	s    *site
	http *http.Client
}

func (s *site) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{s: s, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a finished request with its body read.
type response struct {
	*http.Response
	Body string
}

func (r *response) doc(t *testing.T) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (c *client) do(req *http.Request) *response {
	c.s.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Response: resp, Body: string(b)}
}

func (c *client) get(path string, headers ...string) *response {
	req, _ := http.NewRequest(http.MethodGet, c.s.srv.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// post sends a urlencoded form; headers come in name, value pairs.
func (c *client) post(path string, form url.Values, headers ...string) *response {
	req, _ := http.NewRequest(http.MethodPost, c.s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// register signs the client up as owner of a new organization.
func (c *client) register(slug string) {
	c.s.t.Helper()
	r := c.post("/register", url.Values{"org_name": {"Org " + slug}, "org_slug": {slug}, "name": {"Owner " + slug},
		"email": {slug + "@example.com"}, "password": {"password123"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/dashboard" {
		c.s.t.Fatalf("register %s: %d %s\n%s", slug, r.StatusCode, r.Header.Get("Location"), r.Body)
	}
}

func (c *client) login(email, password string) *response {
	return c.post("/login", url.Values{"email": {email}, "password": {password}})
}

func wantStatus(t *testing.T, r *response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%.2000s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.Body)
	}
}

func text(d *goquery.Document, sel string) string { return strings.TrimSpace(d.Find(sel).Text()) }

var ctx = context.Background()
