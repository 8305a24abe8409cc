// Package app is FleetPrompt's composition root: it reads the
// configuration once, builds the store, renderer, handlers, job runner and
// cron, runs the chosen command, and shuts everything down in order.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fleetprompt/store"
)

// Run executes the command in args and returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string) int {
	cfg, cmd, rest, err := LoadConfig(args, getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetprompt:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := run(ctx, cfg, cmd, rest, log); err != nil {
		log.Error("fleetprompt stopped", "command", cmd, "err", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, cfg Config, cmd string, rest []string, log *slog.Logger) error {
	d, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.close(log)
	st, err := store.New(d.db, cfg.BcryptCost)
	if err != nil {
		return err
	}
	rep, err := st.Migrate(ctx)
	log.Info("migrations", "public_applied", rep.PublicApplied, "tenants", rep.Tenants, "tenant_applied", rep.TenantsApplied)
	if err != nil {
		if len(rep.Failed) == 0 {
			return err // public schema broken: nothing can run
		}
		// A tenant that fails to migrate is reported loudly and in
		// /healthz, but does not take the other organizations down.
		for schema, msg := range rep.Failed {
			log.Error("tenant migration failed", "schema", schema, "err", msg)
		}
	}
	if d.created || cmd == "seed" {
		if err := st.Seed(ctx); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		log.Info("demo data seeded", "login", "admin@demo.com / password123")
	}
	switch cmd {
	case "migrate", "seed":
		return nil
	case "replay":
		// The platform's bus, so replay knows every registered handler.
		p, err := newPlatform(st, d.dsn, cfg, false, log)
		if err != nil {
			return err
		}
		return replay(ctx, st, p.bus, rest, log)
	case "worker":
		return work(ctx, cfg, st, d.dsn, log)
	default: // serve
		secret, err := sessionSecret(cfg)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, st, d.dsn, secret, rep, log)
	}
}

// work runs job workers only, until ctx ends.
func work(ctx context.Context, cfg Config, st *store.Store, dsn string, log *slog.Logger) error {
	p, err := newPlatform(st, dsn, cfg, false, log)
	if err != nil {
		return err
	}
	if err := p.start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down worker")
	p.stop(log, 30*time.Second)
	return nil
}

// sessionSecret returns SESSION_SECRET, or a secret generated once and
// kept in DATA_DIR so sessions survive restarts.
func sessionSecret(cfg Config) ([]byte, error) {
	if cfg.SessionSecret != "" {
		return []byte(cfg.SessionSecret), nil
	}
	path := filepath.Join(cfg.DataDir, "session.secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	secret := hex.EncodeToString(buf)
	if err := os.MkdirAll(cfg.DataDir, 0o711); err != nil {
		return nil, err
	}
	return []byte(secret), os.WriteFile(path, []byte(secret+"\n"), 0o600)
}
