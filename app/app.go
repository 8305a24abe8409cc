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
		secret, err := sessionSecret(ctx, cfg, st)
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

// sessionSecret returns SESSION_SECRET, or the secret generated once and
// kept in the database, so that every instance on it (each with its own
// DATA_DIR, or none) accepts the others' cookies. A secret kept in the
// database grants nothing by itself: a cookie only carries a random
// session token, and the database holds that token's hash, not the token.
//
// The embedded database keeps it there too, one place for both set-ups;
// a session.secret file left in DATA_DIR by an earlier version becomes
// the stored secret, so its sessions survive the upgrade.
func sessionSecret(ctx context.Context, cfg Config, st *store.Store) ([]byte, error) {
	if cfg.SessionSecret != "" {
		return []byte(cfg.SessionSecret), nil
	}
	candidate, err := legacySecret(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if candidate == "" {
		buf := make([]byte, 32)
		rand.Read(buf)
		candidate = hex.EncodeToString(buf)
	}
	secret, err := st.Secret(ctx, "session", candidate)
	if err != nil {
		return nil, err
	}
	return []byte(secret), nil
}

// legacySecret reads DATA_DIR/session.secret, or "" when there is none.
func legacySecret(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "session.secret"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if s := strings.TrimSpace(string(b)); len(s) >= 32 {
		return s, nil
	}
	return "", nil
}
