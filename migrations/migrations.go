// Package migrations holds the embedded SQL migrations and the small runner
// that applies them.
//
// Two sets: public/ (the shared schema) and tenant/ (applied to every
// organization's org_<slug> schema, each with its own version table). A
// library such as goose keeps one version table per database connection
// string, and schema-per-tenant would mean juggling search_path on pooled
// connections around it; the runner here is ~150 lines, applies every
// migration with its version bump in one transaction, and lets a new
// tenant's migrations run inside the transaction that creates it.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

//go:embed public/*.sql tenant/*.sql
var files embed.FS

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Set is an ordered, gap-free list of migrations.
type Set []Migration

// Latest is the highest version in the set.
func (s Set) Latest() int { return len(s) }

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Load reads both sets and checks that each is numbered 1..n without gaps
// or duplicates, so a bad merge fails the boot instead of skipping a step.
func Load() (public, tenant Set, err error) {
	if public, err = load("public"); err != nil {
		return nil, nil, err
	}
	if tenant, err = load("tenant"); err != nil {
		return nil, nil, err
	}
	return public, tenant, nil
}

func load(dir string) (Set, error) { return loadFS(files, dir) }

func loadFS(fsys fs.FS, dir string) (Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var set Set
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrations/%s/%s: name must be NNNN_name.sql", dir, e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		set = append(set, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	sort.Slice(set, func(i, j int) bool { return set[i].Version < set[j].Version })
	for i, m := range set {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations/%s: expected version %04d, found %04d_%s (gap or duplicate)", dir, i+1, m.Version, m.Name)
		}
	}
	return set, nil
}

// publicLock serialises migration runs of several processes on one database.
const publicLock = 0x46500001

// ApplyPublic brings the public schema up to date, one transaction per
// migration. It returns how many were applied.
func ApplyPublic(ctx context.Context, db *sqlx.DB, set Set) (int, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS public.schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("create public.schema_migrations: %w", err)
	}
	applied := 0
	for _, m := range set {
		done, err := applyOne(ctx, db, "public", m)
		if err != nil {
			return applied, err
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

func applyOne(ctx context.Context, db *sqlx.DB, schema string, m Migration) (applied bool, err error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, publicLock); err != nil {
		return false, err
	}
	var current int
	if err := tx.GetContext(ctx, &current, `SELECT coalesce(max(version), 0) FROM public.schema_migrations`); err != nil {
		return false, err
	}
	if current >= m.Version {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL search_path TO public`); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("%s migration %04d_%s: %w", schema, m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO public.schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// ApplyTenant brings one tenant schema up to date inside tx, which the
// caller owns: registration passes the transaction that also creates the
// organization, so a failure leaves no schema behind. The schema must exist.
// search_path is set with SET LOCAL and restored, so it never outlives the
// transaction nor leaks to the next user of the pooled connection.
func ApplyTenant(ctx context.Context, tx *sqlx.Tx, set Set, schema string) (int, error) {
	q := pq.QuoteIdentifier(schema)
	// Serialise concurrent runs on the same tenant (two instances booting).
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "migrate:"+schema); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+q+`.schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("create %s.schema_migrations: %w", schema, err)
	}
	var current int
	if err := tx.GetContext(ctx, &current, `SELECT coalesce(max(version), 0) FROM `+q+`.schema_migrations`); err != nil {
		return 0, err
	}
	if current >= set.Latest() {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('search_path', $1, true)`, q+", public"); err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range set[current:] {
		// Every file runs in the caller's transaction: all or nothing.
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return applied, fmt.Errorf("tenant %s migration %04d_%s: %w", schema, m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+q+`.schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return applied, err
		}
		applied++
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('search_path', 'public', true)`); err != nil {
		return applied, err
	}
	return applied, nil
}

// TenantVersion reads a tenant schema's applied version (0 when it has none).
func TenantVersion(ctx context.Context, db sqlx.QueryerContext, schema string) (int, error) {
	var v int
	err := sqlx.GetContext(ctx, db, &v, `SELECT coalesce((SELECT max(version) FROM `+pq.QuoteIdentifier(schema)+`.schema_migrations), 0)`)
	return v, err
}
