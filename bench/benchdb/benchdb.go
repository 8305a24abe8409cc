// Package benchdb gives a benchmark program a fresh, migrated database of
// its own: on the server DATABASE_URL names, or on a private PostgreSQL it
// starts in a temporary directory (removed again by the stop function).
package benchdb

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"fleetprompt/store"
	"fleetprompt/store/pgcluster"
)

// Options tune the database.
type Options struct {
	// Fast turns fsync off on a private server (a bench that is not about
	// durability); with DATABASE_URL it changes nothing.
	Fast   bool
	Logger *slog.Logger
}

// Open creates database name (dropping a leftover one), migrates it, and
// returns its connection string and a function that drops it and stops
// any server Open started.
func Open(ctx context.Context, name string, o Options) (dsn string, stop func(), err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	base := os.Getenv("DATABASE_URL")
	stopServer := func() {}
	if base == "" {
		dir, err := os.MkdirTemp("", "fp-"+name+"-")
		if err != nil {
			return "", nil, err
		}
		// The postgres system user (when we run as root) must reach it.
		os.Chmod(dir, 0o755)
		c := &pgcluster.Cluster{Dir: filepath.Join(dir, "pg"), Fast: o.Fast, MaxConnections: 200, Logger: o.Logger}
		fmt.Printf("starting a private PostgreSQL (fsync %v; set DATABASE_URL to use another)\n", !o.Fast)
		if err := c.Start(ctx); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		base = c.DSN("postgres")
		stopServer = func() { c.Stop(); os.RemoveAll(dir) }
	}
	u, err := url.Parse(base)
	if err != nil {
		stopServer()
		return "", nil, fmt.Errorf("DATABASE_URL must be a postgres:// URL: %w", err)
	}
	admin, err := store.Open(ctx, base, 2)
	if err != nil {
		stopServer()
		return "", nil, err
	}
	drop := `DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`
	admin.ExecContext(ctx, drop)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		stopServer()
		return "", nil, fmt.Errorf("create bench database: %w", err)
	}
	u.Path = "/" + name
	dsn = u.String()
	stop = func() {
		admin.ExecContext(context.Background(), drop)
		admin.Close()
		stopServer()
	}
	db, err := store.Open(ctx, dsn, 4)
	if err != nil {
		stop()
		return "", nil, err
	}
	defer db.Close()
	s, err := store.New(db, 4)
	if err == nil {
		_, err = s.Migrate(ctx)
	}
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("migrate bench database: %w", err)
	}
	return dsn, stop, nil
}
