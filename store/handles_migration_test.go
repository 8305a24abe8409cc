package store_test

import (
	"context"
	"strings"
	"testing"

	"fleetprompt/migrations"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// The handles migration on a database that already has users (and
// memberships): each user gets the handle their name derives, deduplicated
// oldest first, and the invitations migration keeps every membership.
func TestHandlesMigrationBackfillsExistingUsers(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	name := storetest.Name("fp_mig")
	if _, err := s.DB.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.DB.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	dsn := storetest.DSN()
	i := strings.LastIndex(dsn, "/")
	j := strings.Index(dsn[i:], "?")
	if j < 0 {
		dsn = dsn[:i+1] + name
	} else {
		dsn = dsn[:i+1] + name + dsn[i+j:]
	}
	db, err := store.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pub, _, err := migrations.Load()
	if err != nil {
		t.Fatal(err)
	}
	before := 0 // the last migration before handles
	for _, m := range pub {
		if m.Name == "user_handles" {
			before = m.Version - 1
		}
	}
	if _, err := migrations.ApplyPublic(ctx, db, pub[:before]); err != nil {
		t.Fatal(err)
	}
	names := []string{"Admin User", "Admin User", "José Núñez", "李小龍", "Q"}
	for k, n := range names {
		if _, err := db.ExecContext(ctx, `INSERT INTO users (email, password_hash, name) VALUES ($1, 'x', $2)`,
			strings.Repeat("u", k+1)+"@example.com", n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO organizations (name, slug) VALUES ('Old', 'old');
		INSERT INTO organization_memberships (organization_id, user_id, role) SELECT o.id, u.id, 'owner' FROM organizations o, users u`); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.ApplyPublic(ctx, db, pub); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := db.SelectContext(ctx, &got, `SELECT handle FROM users ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []string{"admin_user", "admin_user2", "jose_nunez", "user", "user2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("handles %v, want %v", got, want)
	}
	var members int
	db.GetContext(ctx, &members, `SELECT count(*) FROM organization_memberships WHERE user_id IS NOT NULL AND status = 'active'`)
	if members != len(names) {
		t.Errorf("%d memberships after the migrations, want %d", members, len(names))
	}
}
