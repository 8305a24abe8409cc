// Package benchsite runs the real application (store, handlers, live hub)
// on a loopback port over a private PostgreSQL, with one organization and
// one forum thread, for the programs in bench/.
package benchsite

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fleetprompt/app"
	"fleetprompt/handlers"
	"fleetprompt/handlers/live"
	"fleetprompt/jobs"
	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/directive"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/store/pgcluster"
	"fleetprompt/views"
)

// Options configure a site.
type Options struct {
	// Fast turns fsync off in the private PostgreSQL (DATABASE_URL unset).
	Fast     bool
	MaxConns int
	// Posts is how many posts the thread starts with (the first included).
	Posts int
	// LLM is the chat's model provider (bench/chat points it at a fake).
	LLM *llm.Client
	// Live configures the hub (bench/sse raises its stream caps).
	Live live.Config
	// Workers, when above zero, runs the app's own platform (job runner,
	// signal handlers and subscribers, directive executors: app.NewPlatform)
	// in this process with that many workers, so writes measured include
	// the background work they cause.
	Workers int
	// Agents runs the agent engine in the site, wired as app/serve.go
	// wires it: its output reaches the first server's pages through the
	// execution relay. No job runner is started: a bench starts its own
	// (Runner) when it wants executions to run.
	Agents bool
}

// Site is a running application.
type Site struct {
	URL      string // http://127.0.0.1:port
	DSN      string // the database, for looking inside during a run
	Addr     string
	Store    *store.Store
	Hub      *live.Hub
	Tenant   store.Tenant
	UserID   int64
	ThreadID string
	Email    string
	Password string
	Durable  bool
	// Platform is the app's background half, when Options.Workers > 0.
	Platform *app.Platform
	// Agents and Directives are the engines (with Options.Agents).
	Agents     *agent.Engine
	Directives *directive.Engine

	rend    *views.Renderer
	assets  *static.Assets
	srvs    []*http.Server
	cluster *pgcluster.Cluster
	dir     string
}

// Start builds everything. Close stops it.
func Start(ctx context.Context, o Options) (*Site, error) {
	if o.MaxConns == 0 {
		o.MaxConns = 32
	}
	s := &Site{Durable: !o.Fast}
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		dir, err := os.MkdirTemp("", "fp-bench-")
		if err != nil {
			return nil, err
		}
		os.Chmod(dir, 0o755)
		s.dir = dir
		quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s.cluster = &pgcluster.Cluster{Dir: filepath.Join(dir, "pg"), Fast: o.Fast, MaxConnections: 200, Logger: quiet}
		if err := s.cluster.Prepare(); err != nil {
			return nil, err
		}
		if err := s.cluster.Start(ctx); err != nil {
			return nil, err
		}
		dsn = s.cluster.DSN("postgres")
	}
	s.DSN = dsn
	db, err := store.Open(ctx, dsn, o.MaxConns)
	if err != nil {
		s.Close()
		return nil, err
	}
	st, err := store.New(db, 4)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Store = st
	if _, err := st.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := s.seed(ctx, o.Posts); err != nil {
		s.Close()
		return nil, err
	}

	assets, err := static.Load()
	if err != nil {
		s.Close()
		return nil, err
	}
	rend, err := views.New(assets, nil)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.rend, s.assets = rend, assets
	o.Live.Logger = quiet
	s.Hub = live.NewHub(st, dsn, rend, o.Live)
	if err := s.Hub.Start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if o.Workers > 0 {
		if s.Platform, err = app.NewPlatform(st, dsn, o.Workers, quiet); err == nil {
			err = s.Platform.Start(ctx)
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("platform: %w", err)
		}
	}
	if o.Agents {
		s.Agents = agent.New(agent.Config{Store: st, LLM: o.LLM, Logger: quiet})
		s.Directives = directive.New(st, quiet, s.Agents.Kinds()...)
	}
	if s.URL, err = s.Serve(handlers.Config{LLM: o.LLM}); err != nil {
		s.Close()
		return nil, err
	}
	s.Addr = strings.TrimPrefix(s.URL, "http://")
	return s, nil
}

// seed makes the organization, its owner (Site.Email) and a thread of
// posts posts in a category.
func (s *Site) seed(ctx context.Context, posts int) error {
	slug := fmt.Sprintf("bench%d", time.Now().UnixNano()%1e9)
	s.Email, s.Password = slug+"@example.com", "password123"
	u, org, err := s.Store.Register(ctx, store.Registration{OrgName: "Bench " + slug, OrgSlug: slug, Name: "Bench User", Email: s.Email, Password: s.Password})
	if err != nil {
		return err
	}
	s.Tenant, s.UserID = store.Tenant{OrgID: org.ID, Slug: org.Slug}, u.ID
	cat, err := s.Store.CreateForumCategory(ctx, s.Tenant, u.ID, store.NewForumCategory{Name: "Bench", Slug: "bench"})
	if err != nil {
		return err
	}
	th, _, err := s.Store.CreateForumThread(ctx, s.Tenant, u.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Bench thread", Body: "First post"})
	if err != nil {
		return err
	}
	s.ThreadID = th.ID
	para := strings.Repeat("A reply of ordinary length, with **some** Markdown and a [link](https://example.com). ", 3)
	for i := 1; i < posts; i++ {
		if _, _, err := s.Store.CreateForumReply(ctx, s.Tenant, u.ID, th.ID, fmt.Sprintf("Post %d. %s", i, para)); err != nil {
			return err
		}
	}
	return nil
}

// quiet is the application's logger in a benchmark: every line is
// formatted, as in the app, and discarded.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Serve starts one more HTTP server of the application on a loopback
// port, sharing the site's store, hub and platform, with the handler
// settings of cfg (e.g. its ThreadCache), and returns its base URL.
// Sessions are shared: a cookie of one server works on every other.
func (s *Site) Serve(cfg handlers.Config) (string, error) {
	cfg.Store, cfg.Views, cfg.Assets, cfg.Logger, cfg.Live = s.Store, s.rend, s.assets, quiet, s.Hub
	cfg.SessionSecret = []byte("bench-secret-bench-secret-bench-secret")
	if cfg.ForumPostLimit == (store.PostLimit{}) {
		cfg.ForumPostLimit = store.PostLimit{Posts: -1} // benchmarks post far faster than a person
	}
	if s.Platform != nil {
		cfg.Directives, cfg.Signals = s.Platform.Directives(), s.Platform.Signals()
	}
	if s.Agents != nil {
		cfg.Agents, cfg.Directives = s.Agents, s.Directives
	}
	h := handlers.New(cfg)
	if s.Agents != nil && len(s.srvs) == 0 {
		s.Agents.AddStream(h.NewExecRelay("bench"))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	// The same timeouts as app/serve.go: streams must survive WriteTimeout.
	srv := &http.Server{Handler: h.Routes(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	// Shutdown waits for active connections: ending the streams first
	// lets it finish.
	srv.RegisterOnShutdown(s.Hub.Close)
	s.srvs = append(s.srvs, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// Runner builds a job runner that executes the site's directives (with
// Options.Agents); the caller starts and stops it.
func (s *Site) Runner(cfg jobs.Config) *jobs.Runner {
	if cfg.DSN == "" {
		cfg.DSN = s.DSN
	}
	r := jobs.New(s.Store.DB, cfg)
	s.Directives.RegisterJobs(r)
	return r
}

// AddMember registers a user (password Site.Password) and makes them an
// active member of the site's organization with role; their session
// acts in it once they have selected it (POST /org/select, slug
// Site.Tenant.Slug). It returns their email.
func (s *Site) AddMember(ctx context.Context, n int, role string) (string, error) {
	slug := fmt.Sprintf("%sv%d", s.Tenant.Slug, n)
	email := slug + "@example.com"
	if _, _, err := s.Store.Register(ctx, store.Registration{OrgName: "Viewer " + slug, OrgSlug: slug,
		Name: fmt.Sprintf("Viewer %d", n), Email: email, Password: s.Password}); err != nil {
		return "", err
	}
	if _, err := s.Store.AddMember(ctx, s.Tenant, s.UserID, email, role); err != nil {
		return "", err
	}
	return email, nil
}

// Close stops the server, the hub and the database.
func (s *Site) Close() {
	for _, srv := range s.srvs {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(sctx)
		cancel()
	}
	if s.Platform != nil {
		s.Platform.Stop(quiet, 5*time.Second)
	}
	if s.Hub != nil {
		s.Hub.Close()
	}
	if s.Store != nil {
		s.Store.DB.Close()
	}
	if s.cluster != nil {
		s.cluster.Stop()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
