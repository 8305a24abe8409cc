package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"fleetprompt/store"
	"fleetprompt/store/pgcluster"
	"fleetprompt/store/storetest"
)

// While PostgreSQL is down, every page answers 503 with Retry-After and
// the styled error page, never 500 (a 20 s outage used to give 627 × 500),
// and once it is back the same site answers 200 again by itself.
func TestDatabaseOutageAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	c, st := privateDatabase(t)
	s := startSite(t, siteConfig{store: st})
	slug := storetest.Name("outage")
	member := s.client()
	member.register(slug)
	wantStatus(t, member.get("/dashboard"), http.StatusOK)

	// The server ends the pool's connections (a failover, an admin): the
	// next statements fail with 57P01, a 503 as well, then all is well.
	terminate(t, c)
	for i := 0; i < 12; i++ {
		if r := member.get("/dashboard"); r.StatusCode != http.StatusOK && r.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("after the server ended its connections: %d\n%.500s", r.StatusCode, r.Body)
		}
	}

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	requests := []func() *response{
		func() *response { return member.get("/dashboard") },
		func() *response { return member.get("/forums") },
		func() *response { return member.get("/marketplace", "HX-Request", "true") },
		func() *response { return member.post("/forums/threads", url.Values{"title": {"x"}, "body": {"y"}}) },
		func() *response { return s.client().login(slug+"@example.com", "password123") },
		func() *response {
			return s.client().post("/register", url.Values{"org_name": {"O"}, "org_slug": {storetest.Name("o")},
				"name": {"n"}, "email": {storetest.Name("e") + "@example.com"}, "password": {"password123"}})
		},
	}
	// Twice over: first the pool's dead connections, then refused dials.
	for round := 0; round < 2; round++ {
		for i, do := range requests {
			r := do()
			if r.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("round %d, request %d (%s %s) during the outage: %d, want 503\n%.500s", round, i, r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Body)
				continue
			}
			if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs <= 0 {
				t.Errorf("503 for %s without a Retry-After: %q", r.Request.URL.Path, r.Header.Get("Retry-After"))
			}
			if r.Request.Header.Get("HX-Request") == "" && text(r.doc(t), ".error-page .code") != "503" {
				t.Errorf("503 for %s without the styled page: %.300s", r.Request.URL.Path, r.Body)
			}
		}
	}

	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := member.get("/dashboard")
		if r.StatusCode == http.StatusOK {
			break
		}
		if r.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after the database came back: %d\n%.500s", r.StatusCode, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wantStatus(t, s.client().login(slug+"@example.com", "password123"), http.StatusSeeOther)
}

// terminate ends every other connection to the outage database.
func terminate(t *testing.T, c *pgcluster.Cluster) {
	t.Helper()
	admin, err := store.Open(context.Background(), c.DSN("postgres"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'outage'`); err != nil {
		t.Fatal(err)
	}
}

// privateDatabase starts a PostgreSQL of the test's own (so it can be
// stopped without disturbing other tests) with a migrated database.
func privateDatabase(t *testing.T) (*pgcluster.Cluster, *store.Store) {
	t.Helper()
	return newPrivateDatabase(t, true)
}

// newPrivateDatabase is privateDatabase, durable unless fast: a test that
// crashes the server needs commits on disk when they are acknowledged.
func newPrivateDatabase(t *testing.T, fast bool) (*pgcluster.Cluster, *store.Store) {
	t.Helper()
	// Directly under the temp dir: as root, the server runs as postgres,
	// which t.TempDir's 0700 parent would shut out.
	dir, err := os.MkdirTemp("", "fp-outage-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := &pgcluster.Cluster{Dir: filepath.Join(dir, "pg"), Fast: fast, Logger: quiet}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		os.RemoveAll(dir)
	})
	admin, err := store.Open(ctx, c.DSN("postgres"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE outage`); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, c.DSN("outage"), 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := store.New(db, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return c, st
}
