package store_test

import (
	"context"
	"strings"
	"testing"

	"fleetprompt/store/storetest"
)

// A tenant whose schema cannot be migrated is reported by name, and the
// other tenants are still migrated.
func TestMigrateReportsBrokenTenant(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	_, good := register(t, s, storetest.Name("good"))
	bad := storetest.Name("bad")
	// An organization row whose schema already has a conflicting table and
	// no version table: the first tenant migration fails on it.
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO organizations (name, slug) VALUES ('Bad', $1)`, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.ExecContext(ctx, `CREATE SCHEMA org_`+bad+`; CREATE TABLE org_`+bad+`.agents (x int)`); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "org_"+bad) {
		t.Fatalf("Migrate error %v, want it to name org_%s", err, bad)
	}
	if _, ok := rep.Failed["org_"+bad]; !ok || len(rep.Failed) != 1 {
		t.Errorf("failed = %v", rep.Failed)
	}
	behind, err := s.TenantsBehind(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(behind, "org_"+bad) || contains(behind, good.Tenant().Schema()) {
		t.Errorf("behind = %v", behind)
	}
	// Clean up so other tests' Migrate calls are not affected.
	s.DB.ExecContext(ctx, `DROP SCHEMA org_`+bad+` CASCADE; DELETE FROM organizations WHERE slug = $1`, bad)
}
