package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/store"
	"fleetprompt/store/pgcluster"
)

// database is the run's private PostgreSQL, durable as the app's own
// (fsync and synchronous commit on: a crash must not lose what was
// acknowledged, and the figures are about exactly that), and a pool the
// bench uses to look inside.
type database struct {
	cluster *pgcluster.Cluster
	dsn     string
	db      *sqlx.DB
}

func openDatabase(ctx context.Context, dir, bin string) (*database, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := &pgcluster.Cluster{Dir: filepath.Join(dir, "pg"), MaxConnections: 400, Logger: quiet}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	d := &database{cluster: c}
	admin, err := store.Open(ctx, c.DSN("postgres"), 1)
	if err != nil {
		c.Stop()
		return nil, err
	}
	_, err = admin.ExecContext(ctx, `CREATE DATABASE fleetprompt`)
	admin.Close()
	if err != nil {
		c.Stop()
		return nil, err
	}
	d.dsn = c.DSN("fleetprompt")
	// The app's own commands migrate and seed it (the seed brings the
	// marketplace's packages).
	for _, cmd := range []string{"migrate", "seed"} {
		run := exec.CommandContext(ctx, bin, cmd)
		run.Env = append(os.Environ(), "DATABASE_URL="+d.dsn, "LOG_LEVEL=warn")
		if out, err := run.CombinedOutput(); err != nil {
			c.Stop()
			return nil, fmt.Errorf("%s: %w: %s", cmd, err, out)
		}
	}
	if d.db, err = store.Open(ctx, d.dsn, 8); err != nil {
		c.Stop()
		return nil, err
	}
	return d, nil
}

func (d *database) close() {
	if d.db != nil {
		d.db.Close()
	}
	d.cluster.Stop()
}

// restartImmediate is `pg_ctl restart -m immediate`: every backend dies at
// once, the server recovers from its WAL.
func (d *database) restartImmediate(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	err := d.cluster.Restart(ctx, "immediate")
	return time.Since(t0), err
}

// stopFor stops the server, keeps it down for down, and starts it again.
func (d *database) stopFor(ctx context.Context, down time.Duration) error {
	if err := d.cluster.Stop(); err != nil {
		return err
	}
	time.Sleep(down)
	return d.cluster.Start(ctx)
}

// schemas are the tenant schemas of the bench's organizations.
func (d *database) schemas(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	err := d.db.SelectContext(ctx, &out, `SELECT 'org_' || slug FROM organizations WHERE slug LIKE $1 || '%' ORDER BY slug`, prefix)
	return out, err
}

// sumOver runs query (with {s} for each schema, quoted) in every schema
// and adds the single integer each returns.
func (d *database) sumOver(ctx context.Context, schemas []string, query string, args ...any) (int, error) {
	total := 0
	for _, s := range schemas {
		var n int
		q := strings.ReplaceAll(query, "{s}", pq.QuoteIdentifier(s))
		if err := d.db.GetContext(ctx, &n, q, args...); err != nil {
			return 0, fmt.Errorf("%s: %w", s, err)
		}
		total += n
	}
	return total, nil
}

// setEnterprise lifts tier limits so installs are about faults, not plans
// (set-up only; everything the figures count goes through HTTP).
func (d *database) setEnterprise(ctx context.Context, prefix string) error {
	_, err := d.db.ExecContext(ctx, `UPDATE organizations SET tier = 'enterprise' WHERE slug LIKE $1 || '%'`, prefix)
	return err
}
