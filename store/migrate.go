package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"

	"fleetprompt/migrations"
)

// MigrationReport says what Migrate did. Failed tenants are reported, not
// ignored: the app logs them and /healthz lists them.
type MigrationReport struct {
	PublicApplied  int
	TenantsApplied int               // migrations applied across all tenants
	Tenants        int               // tenant schemas checked
	Failed         map[string]string // schema → error
}

// FailedSchemas lists the schemas that could not be migrated, sorted.
func (r MigrationReport) FailedSchemas() []string {
	out := make([]string, 0, len(r.Failed))
	for s := range r.Failed {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Migrate applies the public migrations, then the tenant migrations to
// every organization's schema, each tenant in its own transaction so one
// broken tenant does not hold back the others.
func (s *Store) Migrate(ctx context.Context) (MigrationReport, error) {
	var rep MigrationReport
	n, err := migrations.ApplyPublic(ctx, s.DB, s.public)
	rep.PublicApplied = n
	if err != nil {
		return rep, err
	}
	var slugs []string
	if err := s.DB.SelectContext(ctx, &slugs, `SELECT slug FROM organizations ORDER BY id`); err != nil {
		return rep, fmt.Errorf("list tenants: %w", err)
	}
	rep.Failed = map[string]string{}
	for _, slug := range slugs {
		schema := Tenant{Slug: slug}.Schema()
		rep.Tenants++
		err := s.Tx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+quoteIdent(schema)); err != nil {
				return err
			}
			n, err := migrations.ApplyTenant(ctx, tx, s.tenant, schema)
			rep.TenantsApplied += n
			return err
		})
		if err != nil {
			rep.Failed[schema] = err.Error()
		}
	}
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("tenant migrations failed for %s", strings.Join(rep.FailedSchemas(), ", "))
	}
	return rep, nil
}

// TenantsBehind lists tenant schemas whose migration version is below the
// latest, for health reporting.
func (s *Store) TenantsBehind(ctx context.Context) ([]string, error) {
	var slugs []string
	if err := s.DB.SelectContext(ctx, &slugs, `SELECT slug FROM organizations ORDER BY id`); err != nil {
		return nil, err
	}
	var behind []string
	for _, slug := range slugs {
		schema := Tenant{Slug: slug}.Schema()
		v, err := migrations.TenantVersion(ctx, s.DB, schema)
		if err != nil || v < s.tenant.Latest() {
			behind = append(behind, schema)
		}
	}
	return behind, nil
}
