package storetest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// NewTenant registers a fresh organization (its slug starting with
// prefix) and returns its tenant and owner.
func NewTenant(t testing.TB, s *store.Store, prefix string) (store.Tenant, store.User) {
	t.Helper()
	slug := Name(prefix)
	u, org, err := s.Register(context.Background(), store.Registration{OrgName: "Org " + slug, OrgSlug: slug,
		Name: "Owner", Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	return org.Tenant(), u
}

// Quiet is a logger that drops everything below errors.
func Quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// JobEvents records a runner's events for tests to wait on.
type JobEvents struct {
	mu   sync.Mutex
	all  []jobs.Event
	cond chan struct{}
}

// NewJobEvents is an empty record.
func NewJobEvents() *JobEvents { return &JobEvents{cond: make(chan struct{})} }

// Add records ev (a jobs.Config.OnEventFunc).
func (e *JobEvents) Add(ev jobs.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	close(e.cond)
	e.cond = make(chan struct{})
	e.mu.Unlock()
}

// Wait waits until pred holds for the events so far (30 s at most).
func (e *JobEvents) Wait(t testing.TB, what string, pred func([]jobs.Event) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		e.mu.Lock()
		ok, ch, n := pred(e.all), e.cond, len(e.all)
		e.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s (%d job events)", what, n)
		}
	}
}

// Finished counts jobs of kind that had the outcome what.
func Finished(evs []jobs.Event, kind string, what jobs.EventKind) int {
	n := 0
	for _, ev := range evs {
		if ev.Job.Kind == kind && ev.Kind == what {
			n++
		}
	}
	return n
}

// StartRunner runs a job runner limited to the given tenants' jobs, so
// parallel tests never take each other's work; register adds its
// handlers. It stops at cleanup.
func StartRunner(t testing.TB, s *store.Store, register func(*jobs.Runner), tenants ...store.Tenant) *JobEvents {
	t.Helper()
	ev := NewJobEvents()
	var schemas []string
	for _, tn := range tenants {
		schemas = append(schemas, tn.Schema())
	}
	r := jobs.New(s.DB, jobs.Config{DSN: DSN(), Tenants: schemas, PollInterval: 50 * time.Millisecond,
		BackoffFunc: func(int) time.Duration { return 10 * time.Millisecond }, OnEventFunc: ev.Add, Logger: Quiet()})
	register(r)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Stop(ctx)
	})
	return ev
}
