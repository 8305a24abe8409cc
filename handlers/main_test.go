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
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gin-gonic/gin"

	"fleetprompt/handlers"
	"fleetprompt/handlers/live"
	"fleetprompt/handlers/llm"
	"fleetprompt/jobs"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
	"fleetprompt/views"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// site is a running app over a real database, for one test, with the
// parts a siteConfig asked for.
type site struct {
	t      *testing.T
	srv    *httptest.Server
	store  *store.Store
	engine *gin.Engine
	dirs   *store.Directives // nil unless siteConfig.directives
	bus    *store.SignalBus  // nil unless siteConfig.bus
	hub    *live.Hub         // nil unless siteConfig.live
	log    *slog.Logger
	events chan jobs.Event // the outcomes of runJobs' runners
}

// siteConfig is what a test site adds to the bare app (newSite adds none).
type siteConfig struct {
	store *store.Store // nil: a pool on this package's test database
	// directives registers executors on the site's registry; nil leaves
	// the handlers without one.
	directives func(*store.Directives)
	bus        *store.SignalBus
	live       bool        // run a live hub, as the app does
	dsn        string      // the hub's LISTEN database; empty: the package's test database
	llm        *llm.Client // chat's provider; nil: the built-in responder
	logTo      io.Writer   // nil: discard
	// writeTimeout is the server's, as in app/serve.go (streams clear it).
	writeTimeout time.Duration
}

func newSite(t *testing.T) *site { return startSite(t, siteConfig{}) }

// startSite builds the handlers like the app does and serves them.
func startSite(t *testing.T, sc siteConfig) *site {
	t.Helper()
	st := sc.store
	if st == nil {
		st = storetest.Store(t)
	}
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	rend, err := views.New(assets, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sc.logTo == nil {
		sc.logTo = io.Discard
	}
	s := &site{t: t, store: st, bus: sc.bus, log: slog.New(slog.NewTextHandler(sc.logTo, nil)), events: make(chan jobs.Event, 1000)}
	cfg := handlers.Config{Store: st, Views: rend, Assets: assets, Logger: s.log, Signals: sc.bus, LLM: sc.llm,
		SessionSecret: []byte("test-secret-test-secret-test-secret")}
	if sc.directives != nil {
		s.dirs = store.NewDirectives(st, s.log)
		sc.directives(s.dirs)
		cfg.Directives = s.dirs
	}
	if sc.live {
		dsn := sc.dsn
		if dsn == "" {
			dsn = storetest.DSN()
		}
		s.hub = live.NewHub(st, dsn, rend, live.Config{Logger: s.log})
		cfg.Live = s.hub
	}
	h := handlers.New(cfg)
	s.engine = h.Routes()
	s.srv = httptest.NewUnstartedServer(s.engine)
	s.srv.Config.WriteTimeout = sc.writeTimeout
	s.srv.Start()
	if s.hub != nil {
		if err := s.hub.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		// Streams and streamed answers never end by themselves.
		s.srv.CloseClientConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		h.StopChats(ctx)
		cancel()
		if s.hub != nil {
			s.hub.Close()
		}
		s.srv.Close()
	})
	return s
}

// runJobs starts a job runner for one tenant's jobs only (parallel tests
// never take each other's), executing the site's directives and signal
// fanout; stopped at cleanup. Outcomes go to s.events.
func (s *site) runJobs(slug string) {
	t := s.t
	t.Helper()
	r := jobs.New(s.store.DB, jobs.Config{DSN: storetest.DSN(), Tenants: []string{"org_" + slug}, PollInterval: 50 * time.Millisecond,
		MaxWorkers: 4, Logger: s.log, OnEventFunc: func(e jobs.Event) {
			select {
			case s.events <- e:
			default: // nobody waiting: the next read sees the outcome
			}
		}})
	if s.dirs != nil {
		s.dirs.RegisterJobs(r)
	}
	if s.bus != nil {
		s.bus.RegisterJobs(r)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Stop(ctx)
	})
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
