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

// privateDatabase starts a PostgreSQL of the test's own, which it may
// stop and start, and returns a migrated store over it and its DSN.
func privateDatabase(t *testing.T) (*pgcluster.Cluster, *store.Store, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "fp-outage-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // the server may run as the postgres user
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	c := &pgcluster.Cluster{Dir: filepath.Join(dir, "pg"), Fast: true, Logger: quiet}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		os.RemoveAll(dir)
	})
	dsn := c.DSN("postgres")
	db, err := store.Open(ctx, dsn, 10)
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
	return c, st, dsn
}

// While PostgreSQL is down, GET /events answers 503 with Retry-After,
// never 500 (an EventSource retries); the hub's LISTEN connection comes
// back by itself when the database does, the streams open across the
// outage are told to resume (notifications may have been missed) and
// resume from their last event id with nothing missed, and new streams
// work again.
func TestEventsDuringDatabaseOutage(t *testing.T) {
	pg, st, dsn := privateDatabase(t)
	s := startSite(t, siteConfig{store: st, live: true, dsn: dsn, writeTimeout: 2 * time.Second})
	c := s.client()
	c.register(storetest.Name("evout"))
	open := c.stream(t, "/events?topic=tenant")
	category := func(slug string) {
		t.Helper()
		wantStatus(t, c.post("/forums/categories", url.Values{"name": {"Cat " + slug}, "slug": {slug}}), http.StatusSeeOther)
	}
	category(storetest.Name("before"))
	last := open.next(t, "forum.category.created").ID

	// Committed just before the outage: the open stream may or may not
	// see it, a stream resuming from last must.
	category(storetest.Name("edge"))
	// The session is read now, so for the next two seconds (the session
	// cache's lifetime) requests reach /events itself; later ones are
	// refused by the session middleware, whose answer to a database error
	// is handlers/errors.go's.
	wantStatus(t, c.get("/dashboard"), http.StatusOK)
	warm := time.Now()
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, q := range []string{"topic=tenant", "topic=tenant&last_event_id=" + last, "topic=installations"} {
		if time.Since(warm) > 1500*time.Millisecond {
			break
		}
		r := c.get("/events?" + q)
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Fatalf("GET /events?%s with the database down: %d (Retry-After %q) %s", q, r.StatusCode, r.Header.Get("Retry-After"), r.Body)
		}
		checked++
	}
	if checked == 0 {
		t.Logf("stopping the database took %v: the session cache had expired, no request reached /events during the outage", time.Since(warm))
	}

	if err := pg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The listener reconnects by itself and ends the streams it may have
	// failed to feed; they resume where they were.
	open.waitEnd(t)
	resumed := c.stream(t, "/events?topic=tenant", "Last-Event-ID", last)
	fresh := c.stream(t, "/events?topic=tenant")
	category(storetest.Name("after"))
	after := fresh.next(t, "forum.category.created").ID
	edge := resumed.next(t, "forum.category.created").ID
	if n, _ := strconv.Atoi(edge); strconv.Itoa(n) != edge || edge == last || edge == after {
		t.Fatalf("the resumed stream's first event is %s: not the one committed before the outage (last seen %s, after %s)", edge, last, after)
	}
	if ev := resumed.next(t, "forum.category.created"); ev.ID != after {
		t.Fatalf("the resumed stream's next category event is %s, want %s", ev.ID, after)
	}
	if st := s.hub.Stats(); st.Ended == 0 || st.Waking != 0 {
		t.Fatalf("hub stats %+v: want the listener's reconnect to have ended streams, and no writer left waking", st)
	}
}
