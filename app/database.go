package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/store"
	"fleetprompt/store/pgcluster"
)

// database is the pool plus, when we run our own server, its cluster.
type database struct {
	db *sqlx.DB
	// dsn is for the LISTEN connections (jobs runner, live hub): they need
	// a session of their own, so with a pooler it is DIRECT_DATABASE_URL.
	dsn     string
	cluster *pgcluster.Cluster // nil with DATABASE_URL
	created bool               // the application database is new
}

const embeddedDB = "fleetprompt"

// openDatabase connects to DATABASE_URL, or starts the private cluster
// under DataDir and creates the application database on first use.
func openDatabase(ctx context.Context, cfg Config, log *slog.Logger) (*database, error) {
	maxConns := cfg.Workers + 16
	if cfg.DatabaseURL != "" {
		db, err := store.OpenWith(ctx, cfg.DatabaseURL, store.Options{MaxConns: maxConns, Pooled: cfg.DatabasePooled})
		if err != nil {
			return nil, err
		}
		if cfg.DatabasePooled {
			log.Info("database behind a transaction-mode pooler: no statement cache; LISTEN on the direct URL",
				"direct_is_pooler_too", cfg.DirectDatabaseURL == cfg.DatabaseURL)
		}
		return &database{db: db, dsn: cfg.DirectDatabaseURL}, nil
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	// 0711: the postgres user may pass through to its cluster directory,
	// but not list DATA_DIR; the secrets in it are 0600.
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return nil, fmt.Errorf("create DATA_DIR: %w", err)
	}
	if fi, err := os.Stat(dataDir); err == nil && fi.Mode().Perm()&0o001 == 0 {
		os.Chmod(dataDir, fi.Mode().Perm()|0o011)
	}
	c := &pgcluster.Cluster{Dir: filepath.Join(dataDir, "pg"), Logger: log}
	if err := c.Prepare(); err != nil {
		return nil, err
	}
	if blocked := c.Unreachable(); blocked != "" {
		// As root the server runs as the postgres user, which cannot enter
		// e.g. /root (0700). Rather than loosen permissions on the user's
		// directories, keep the cluster in a root-owned but traversable
		// place tied to this DATA_DIR, and say so.
		h := sha256.Sum256([]byte(dataDir))
		alt := filepath.Join("/var/lib/fleetprompt", hex.EncodeToString(h[:6]), "pg")
		if err := os.MkdirAll(filepath.Dir(alt), 0o755); err != nil {
			return nil, fmt.Errorf("the postgres user cannot reach %s (%s is closed to it) and %s cannot be created: %w; set DATA_DIR to a directory it can reach", dataDir, blocked, alt, err)
		}
		os.Chmod("/var/lib/fleetprompt", 0o755)
		log.Warn("DATA_DIR is not reachable by the postgres user; keeping the database cluster elsewhere",
			"data_dir", dataDir, "closed", blocked, "cluster", alt)
		c.Dir = alt
		os.WriteFile(filepath.Join(dataDir, "CLUSTER_LOCATION"), []byte(alt+"\n"), 0o600)
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	d := &database{cluster: c, dsn: c.DSN(embeddedDB)}
	admin, err := store.Open(ctx, c.DSN("postgres"), 2)
	if err != nil {
		c.Stop()
		return nil, err
	}
	defer admin.Close()
	var exists bool
	if err := admin.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, embeddedDB); err != nil {
		c.Stop()
		return nil, err
	}
	if !exists {
		_, err := admin.ExecContext(ctx, `CREATE DATABASE `+embeddedDB)
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "42P04" {
			err = nil // another command started at the same moment made it
		} else if err == nil {
			d.created = true
		}
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("create database: %w", err)
		}
	}
	if d.db, err = store.Open(ctx, d.dsn, maxConns); err != nil {
		c.Stop()
		return nil, err
	}
	log.Info("using private PostgreSQL", "password_file", c.Dir+".password", "port", c.Port())
	return d, nil
}

// close closes the pool, then ends our use of the private server: it
// stops only when no other command on this DATA_DIR still uses it.
func (d *database) close(log *slog.Logger) {
	d.db.Close()
	if d.cluster != nil {
		if err := d.cluster.Stop(); err != nil {
			log.Error("stop postgres", "err", err)
		}
	}
}
