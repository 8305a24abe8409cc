package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"fleetprompt/handlers"
	"fleetprompt/handlers/live"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/views"
)

// serve runs the HTTP server until ctx ends, then shuts down in order:
// HTTP first (in-flight requests finish), then background work; the
// database closes when run returns.
func serve(ctx context.Context, cfg Config, st *store.Store, dsn string, secret []byte, rep store.MigrationReport, log *slog.Logger) error {
	assets, err := static.Load()
	if err != nil {
		return err
	}
	rend, err := views.New(assets, nil)
	if err != nil {
		return err
	}
	p, err := newPlatform(st, dsn, cfg, true, log)
	if err != nil {
		return err
	}
	raiseOpenFileLimit(log, cfg.MaxStreams)
	hub := live.NewHub(st, dsn, rend, live.Config{Logger: log, MaxStreams: cfg.MaxStreams})
	failed := rep.FailedSchemas()
	h := handlers.New(handlers.Config{
		Store: st, Views: rend, Assets: assets, Logger: log, SessionSecret: secret,
		Directives: p.dirs, Signals: p.bus, Agents: p.agents, Workflows: p.workflows, Live: hub, LLM: modelProvider(cfg, log), TrustedProxies: cfg.TrustedProxies,
		Webhooks: p.hooks, ForumPostLimit: cfg.ForumPostLimit,
		HealthFunc: func(ctx context.Context) map[string]any {
			if len(failed) == 0 {
				return nil
			}
			return map[string]any{"tenants_failed": failed}
		},
	})
	// Agents' output reaches this server's pages straight from its own
	// workers, and from other processes over NOTIFY.
	relay := h.NewExecRelay(p.origin)
	p.agents.AddStream(relay)
	go relay.Listen(ctx, dsn, nil)
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           h.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // event streams clear it per request
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if err := hub.Start(ctx); err != nil {
		return err
	}
	defer hub.Close()
	if err := p.start(ctx); err != nil {
		return err
	}
	// Deferred so an early return (the listener failing) stops the workers
	// too; on a normal shutdown it runs after HTTP has drained.
	defer p.stop(log, 10*time.Second)
	log.Info("serving", "addr", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Event streams never finish on their own: end them first so
	// Shutdown does not wait out its deadline for them.
	hub.Close()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	return nil
}
