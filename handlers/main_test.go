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
	"fleetprompt/jobs"
	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/executor"
	"fleetprompt/jobs/forumagent"
	"fleetprompt/jobs/signal"
	"fleetprompt/jobs/webhook"
	"fleetprompt/jobs/workflow"
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
	dirs   *directive.Engine // its kinds are siteConfig.directives'
	bus    *signal.Bus       // unstarted: the admin's replays; runJobs delivers
	agents *agent.Engine     // nil unless siteConfig.agents
	flows  *workflow.Engine  // runs steps only with siteConfig.workflows
	hub    *live.Hub         // nil unless siteConfig.live
	log    *slog.Logger
	events chan jobs.Event // the outcomes of runJobs' runners
	// workflows says runJobs runs workflow steps too.
	workflows bool

	subscribers []signal.Subscriber
}

// siteConfig is what a test site adds to the bare app (newSite adds none).
type siteConfig struct {
	store *store.Store // nil: a pool on this package's test database
	// directives lists the directive kinds the site's engine knows; nil
	// leaves it with none.
	directives func(*store.Store) []directive.Kind
	// subscribers are signal subscribers that runJobs runs for its tenant.
	subscribers []signal.Subscriber
	// agents runs the agent engine (its kinds join the directives), with
	// llm as its provider.
	agents bool
	// workflows runs the workflow engine's kinds, subscribers and step
	// jobs (with agents, its agent steps).
	workflows bool
	// remoteOutput makes the engine's output reach the pages over NOTIFY
	// only, as from a worker process, instead of directly.
	remoteOutput bool
	live         bool        // run a live hub, as the app does
	dsn          string      // the hub's LISTEN database; empty: the package's test database
	llm          *llm.Client // chat's provider; nil: the built-in responder
	logTo        io.Writer   // nil: discard
	// writeTimeout is the server's, as in app/serve.go (streams clear it).
	writeTimeout time.Duration
	// trustedProxies is TRUSTED_PROXIES; "127.0.0.1" lets a test speak
	// for many clients with X-Forwarded-For.
	trustedProxies []string
	// webhooks is the webhook engine (nil: URLs checked strictly);
	// apiRateLimit and apiRateWindow the API's per-key limit (0: default).
	webhooks      *webhook.Engine
	apiRateLimit  int
	apiRateWindow time.Duration
	// postLimit is the forum's posting limit; zero: none (tests post fast).
	postLimit store.PostLimit
}

func newSite(t *testing.T) *site { return startSite(t, siteConfig{}) }

// allKinds is every directive kind the app has (app/platform.go).
func allKinds(st *store.Store) []directive.Kind {
	return append(executor.Marketplace(st), executor.Forum(st)...)
}

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
	s := &site{t: t, workflows: sc.workflows, store: st, log: slog.New(slog.NewTextHandler(sc.logTo, nil)), events: make(chan jobs.Event, 1000), subscribers: sc.subscribers}
	s.startEngines(sc)
	cfg := handlers.Config{Store: st, Views: rend, Assets: assets, Logger: s.log, Signals: s.bus, LLM: sc.llm,
		Directives: s.dirs, Agents: s.agents, Workflows: s.flows, SessionSecret: []byte("test-secret-test-secret-test-secret"),
		TrustedProxies: sc.trustedProxies, Webhooks: sc.webhooks, APIRateLimit: sc.apiRateLimit, APIRateWindow: sc.apiRateWindow,
		ForumPostLimit: sc.postLimit}
	if sc.postLimit == (store.PostLimit{}) {
		cfg.ForumPostLimit = store.PostLimit{Posts: -1}
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
	s.relayOutput(h, sc.remoteOutput)
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
		// Streams never end by themselves.
		s.srv.CloseClientConnections()
		if s.hub != nil {
			s.hub.Close()
		}
		s.srv.Close()
	})
	return s
}

// startEngines builds the site's directive, agent and workflow engines
// and its signal bus, as app/platform.go does for the app.
func (s *site) startEngines(sc siteConfig) {
	var kinds []directive.Kind
	if sc.directives != nil {
		kinds = sc.directives(s.store)
	}
	if sc.agents {
		// The agent engine with the forum's agents (mentions, "ask an
		// agent"), as app/platform.go wires them.
		s.agents = agent.New(agent.Config{Store: s.store, LLM: sc.llm, Logger: s.log, SaveEvery: 100 * time.Millisecond})
		forum := forumagent.New(s.store)
		s.agents.Handle(forum.Purpose())
		kinds = append(append(kinds, s.agents.Kinds()...), forum.Kinds()...)
		s.subscribers = append(s.subscribers, forum.Subscribers()...)
	}
	s.flows = workflow.New(s.store, func() *directive.Engine { return s.dirs }, s.log)
	if sc.workflows {
		kinds = append(kinds, s.flows.Kinds()...)
		s.subscribers = append(s.subscribers, s.flows.Subscribers()...)
		if s.agents != nil {
			s.agents.Handle(s.flows.Purpose())
		}
	}
	s.dirs = directive.New(s.store, s.log, kinds...)
	s.bus = signal.New(signal.Config{Store: s.store, Logger: s.log})
	for _, sub := range sc.subscribers {
		s.bus.Subscribe(sub)
	}
}

// relayOutput wires agent output to this site's live streams: in
// process, or (remote) through NOTIFY as a worker process would send it.
func (s *site) relayOutput(h *handlers.Handler, remote bool) {
	if s.agents != nil && s.hub != nil {
		relay := h.NewExecRelay("web")
		if remote {
			out := agent.NewNotifyStream(s.store.DB, "worker", s.log)
			s.agents.AddStream(out)
			lctx, stop := context.WithCancel(context.Background())
			listening := make(chan struct{})
			go func() { relay.Listen(lctx, storetest.DSN(), func() { close(listening) }) }()
			<-listening
			s.t.Cleanup(func() { stop(); out.Close() })
		} else {
			s.agents.AddStream(relay)
		}
	}
}

// runJobs starts a job runner for one tenant's jobs only (parallel tests
// never take each other's), executing the site's directives, and the
// site's signal subscribers for that tenant; stopped at cleanup. Job
// outcomes go to s.events.
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
	s.dirs.RegisterJobs(r)
	if s.workflows {
		s.flows.RegisterJobs(r)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	bus := signal.New(signal.Config{Store: s.store, DSN: storetest.DSN(), Tenants: []string{"org_" + slug}, Logger: s.log})
	for _, sub := range s.subscribers {
		bus.Subscribe(sub)
	}
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		bus.Stop(ctx)
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
