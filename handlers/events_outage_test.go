package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"fleetprompt/handlers/live"
	"fleetprompt/store/storetest"
)

// While PostgreSQL is down, GET /events answers 503 with Retry-After,
// never 500 (an EventSource retries); the hub's LISTEN connection comes
// back by itself when the database does, the streams open across the
// outage are told to resume (notifications may have been missed) and
// resume from their last event id with nothing missed, and new streams
// work again.
func TestEventsDuringDatabaseOutage(t *testing.T) {
	pg, st := privateDatabase(t)
	dsn := pg.DSN("outage")
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
	// The open stream may end before the listener is back (the edge
	// signal's fan-out can fail to read it: "publish failed"); streams
	// opened before the listener's reconnect would be ended by it too.
	reconnected := make(chan struct{}, 1)
	s.hub.Observe(live.Observer{Lost: func() {
		select {
		case reconnected <- struct{}{}:
		default:
		}
	}})
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
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the hub's listener did not reconnect")
	}
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
