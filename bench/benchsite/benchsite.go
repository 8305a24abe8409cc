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

	"fleetprompt/handlers"
	"fleetprompt/handlers/live"
	"fleetprompt/handlers/llm"
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

	srv     *http.Server
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
	slug := fmt.Sprintf("bench%d", time.Now().UnixNano()%1e9)
	s.Email, s.Password = slug+"@example.com", "password123"
	u, org, err := st.Register(ctx, store.Registration{OrgName: "Bench " + slug, OrgSlug: slug, Name: "Bench User", Email: s.Email, Password: s.Password})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Tenant, s.UserID = store.Tenant{OrgID: org.ID, Slug: org.Slug}, u.ID
	cat, err := st.CreateForumCategory(ctx, s.Tenant, u.ID, store.NewForumCategory{Name: "Bench", Slug: "bench"})
	if err != nil {
		s.Close()
		return nil, err
	}
	th, _, err := st.CreateForumThread(ctx, s.Tenant, u.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Bench thread", Body: "First post"})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.ThreadID = th.ID
	para := strings.Repeat("A reply of ordinary length, with **some** Markdown and a [link](https://example.com). ", 3)
	for i := 1; i < o.Posts; i++ {
		if _, _, err := st.CreateForumReply(ctx, s.Tenant, u.ID, th.ID, fmt.Sprintf("Post %d. %s", i, para)); err != nil {
			s.Close()
			return nil, err
		}
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
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o.Live.Logger = quiet
	s.Hub = live.NewHub(st, dsn, rend, o.Live)
	if err := s.Hub.Start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	h := handlers.New(handlers.Config{Store: st, Views: rend, Assets: assets, Logger: quiet, Live: s.Hub, LLM: o.LLM,
		SessionSecret: []byte("bench-secret-bench-secret-bench-secret")})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, err
	}
	// The same timeouts as app/serve.go: streams must survive WriteTimeout.
	s.srv = &http.Server{Handler: h.Routes(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	// Shutdown waits for active connections: ending the streams first
	// lets it finish.
	s.srv.RegisterOnShutdown(s.Hub.Close)
	go s.srv.Serve(ln)
	s.Addr = ln.Addr().String()
	s.URL = "http://" + s.Addr
	return s, nil
}

// Close stops the server, the hub and the database.
func (s *Site) Close() {
	if s.srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.srv.Shutdown(sctx)
		cancel()
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
