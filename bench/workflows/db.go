package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fleetprompt/store"
	"fleetprompt/store/pgcluster"
)

// benchDB is the bench's database: a private, durable PostgreSQL (fsync
// and synchronous commit on, as the app's own) with track_commit_timestamp
// on, so latencies start at the moment a signal committed; or a database
// fp_bench_workflows on the server DATABASE_URL names.
type benchDB struct {
	dsn string
	// commitTimes says pg_xact_commit_timestamp works (else the bench
	// clocks commits itself, when CreateForumThread returns).
	commitTimes bool
	postmaster  int // the private server's postmaster, for CPU figures
	stop        func()
}

const dbName = "fp_bench_workflows"

func openBenchDB(ctx context.Context, dir string, statements bool) (*benchDB, error) {
	d := &benchDB{stop: func() {}}
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		c := &pgcluster.Cluster{Dir: filepath.Join(dir, "pg"), MaxConnections: 200, Logger: quiet}
		if err := c.Start(ctx); err != nil {
			return nil, err
		}
		d.stop = func() { c.Stop() }
		if err := setCommitTimestamps(ctx, c, statements); err != nil {
			d.stop()
			return nil, err
		}
		base = c.DSN("postgres")
		if b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid")); err == nil {
			line, _, _ := strings.Cut(string(b), "\n")
			d.postmaster, _ = strconv.Atoi(strings.TrimSpace(line))
		}
	}
	admin, err := store.Open(ctx, base, 1)
	if err != nil {
		d.stop()
		return nil, err
	}
	defer admin.Close()
	admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+dbName+` WITH (FORCE)`)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+dbName); err != nil {
		d.stop()
		return nil, fmt.Errorf("create %s: %w", dbName, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("DATABASE_URL must be a postgres:// URL: %w", err)
	}
	u.Path = "/" + dbName
	d.dsn = u.String()
	var on string
	admin.GetContext(ctx, &on, `SHOW track_commit_timestamp`)
	d.commitTimes = on == "on"
	stopServer := d.stop
	d.stop = func() {
		admin, err := store.Open(context.Background(), base, 1)
		if err == nil {
			admin.Exec(`DROP DATABASE IF EXISTS ` + dbName + ` WITH (FORCE)`)
			admin.Close()
		}
		stopServer()
	}
	return d, nil
}

// setCommitTimestamps turns track_commit_timestamp on (it takes a
// restart), and with statements loads pg_stat_statements.
func setCommitTimestamps(ctx context.Context, c *pgcluster.Cluster, statements bool) error {
	db, err := store.Open(ctx, c.DSN("postgres"), 1)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `ALTER SYSTEM SET track_commit_timestamp = on`)
	if err == nil && statements {
		_, err = db.ExecContext(ctx, `ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`)
	}
	db.Close()
	if err != nil {
		return err
	}
	return c.Restart(ctx, "fast")
}

// topStatements prints the n statements of the bench database that took
// the most time since the last reset, and resets the counts.
func (d *benchDB) topStatements(ctx context.Context, n int) {
	db, err := store.Open(ctx, d.dsn, 1)
	if err != nil {
		return
	}
	defer db.Close()
	var rows []struct {
		Calls int64   `db:"calls"`
		Total float64 `db:"total"`
		Query string  `db:"query"`
	}
	err = db.SelectContext(ctx, &rows, `SELECT calls, total_exec_time AS total, regexp_replace(query, '\s+', ' ', 'g') AS query
		FROM pg_stat_statements s JOIN pg_database b ON b.oid = s.dbid AND b.datname = current_database()
		ORDER BY total_exec_time DESC LIMIT $1`, n)
	if err != nil {
		fmt.Println("  (pg_stat_statements:", err, ")")
		return
	}
	fmt.Printf("  statements by time (pg_stat_statements):\n")
	for _, r := range rows {
		q := r.Query
		if len(q) > 160 {
			q = q[:160] + "…"
		}
		fmt.Printf("    %8.0fms %7d calls  %s\n", r.Total, r.Calls, q)
	}
	db.ExecContext(ctx, `SELECT pg_stat_statements_reset()`)
}

// resetStatements starts pg_stat_statements' counts afresh.
func (d *benchDB) resetStatements(ctx context.Context) {
	db, err := store.Open(ctx, d.dsn, 1)
	if err != nil {
		return
	}
	defer db.Close()
	db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
	db.ExecContext(ctx, `SELECT pg_stat_statements_reset()`)
}
