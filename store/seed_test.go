package store_test

import (
	"context"
	"fmt"
	"testing"

	"fleetprompt/store/storetest"
)

func TestSeedIsIdempotent(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	counts := func() map[string]int {
		out := map[string]int{}
		for name, q := range map[string]string{
			"orgs": `SELECT count(*) FROM organizations WHERE slug = 'demo'`, "users": `SELECT count(*) FROM users WHERE email = 'admin@demo.com'`,
			"skills": `SELECT count(*) FROM skills`, "packages": `SELECT count(*) FROM packages WHERE is_published`,
			"agents": `SELECT count(*) FROM org_demo.agents`, "categories": `SELECT count(*) FROM org_demo.forum_categories`,
			"threads": `SELECT count(*) FROM org_demo.forum_threads`,
			"signals": `SELECT count(*) FROM org_demo.signals WHERE name LIKE 'forum.%'`,
		} {
			var n int
			if err := s.DB.GetContext(ctx, &n, q); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out[name] = n
		}
		return out
	}
	if err := s.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	first := counts()
	// Two categories, the welcome thread and its first post are facts too.
	want := map[string]int{"orgs": 1, "users": 1, "skills": 3, "packages": 4, "agents": 1, "categories": 2, "threads": 1, "signals": 4}
	for k, v := range want {
		if first[k] < v {
			t.Errorf("%s = %d after seed, want ≥ %d", k, first[k], v)
		}
	}
	if err := s.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if second := counts(); len(second) != len(first) || fmtMap(second) != fmtMap(first) {
		t.Errorf("second seed changed counts: %v → %v", first, second)
	}
	u, err := s.Authenticate(ctx, "admin@demo.com", "password123")
	if err != nil {
		t.Fatalf("demo login: %v", err)
	}
	var role string
	s.DB.GetContext(ctx, &role, `SELECT role FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id WHERE o.slug = 'demo' AND m.user_id = $1 AND m.status = 'active'`, u.ID)
	if role != "owner" {
		t.Errorf("demo admin role %q", role)
	}
}

// fmtMap prints a map with sorted keys (fmt sorts them).
func fmtMap(m map[string]int) string { return fmt.Sprint(m) }
