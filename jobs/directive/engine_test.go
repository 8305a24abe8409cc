package directive_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// effectExecutor writes one tenant row per execution (tenant_skills keyed
// by the directive id), so a test can count effects; fail makes it fail
// after writing, which must roll the write back.
type effectExecutor struct {
	calls atomic.Int32
	mu    sync.Mutex
	err   error // returned after the write, when set
}

func (e *effectExecutor) failWith(err error) {
	e.mu.Lock()
	e.err = err
	e.mu.Unlock()
}

func (e *effectExecutor) run(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
	e.calls.Add(1)
	if _, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.tenant_skills (skill_slug) VALUES ($1)`), "effect-"+d.ID); err != nil {
		return nil, err
	}
	e.mu.Lock()
	err := e.err
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return map[string]string{"done": d.ID}, nil
}

func effects(t *testing.T, s *store.Store, tn store.Tenant, id string) int {
	t.Helper()
	var n int
	if err := s.DB.Get(&n, `SELECT count(*) FROM `+pq.QuoteIdentifier(tn.Schema())+`.tenant_skills WHERE skill_slug = $1`, "effect-"+id); err != nil {
		t.Fatal(err)
	}
	return n
}

func signalNames(t *testing.T, s *store.Store, tn store.Tenant, sub store.Subject) []string {
	t.Helper()
	sigs, err := s.SignalsBySubjects(context.Background(), tn, []store.Subject{sub}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sig := range sigs {
		names = append(names, sig.Name)
	}
	return names
}

func newDirectives(s *store.Store, kinds ...string) (*directive.Engine, *effectExecutor) {
	ex := &effectExecutor{}
	return directive.New(s, quiet(), ex.kinds(kinds...)...), ex
}

// kinds are test kinds run by e.
func (e *effectExecutor) kinds(names ...string) []directive.Kind {
	var out []directive.Kind
	for _, k := range names {
		out = append(out, directive.Kind{Name: k, Title: k, Pending: k + " requested", Run: e.run})
	}
	return out
}

func newTenant(t *testing.T, s *store.Store) (store.Tenant, store.User) {
	return storetest.NewTenant(t, s, "dir")
}

func quiet() *slog.Logger { return storetest.Quiet() }

func startRunner(t *testing.T, s *store.Store, register func(*jobs.Runner), tenants ...store.Tenant) *storetest.JobEvents {
	return storetest.StartRunner(t, s, register, tenants...)
}

var finished = storetest.Finished

func TestRequestDirectiveRefusesUnknownKind(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, u := newTenant(t, s)
	d, _ := newDirectives(s, "test.known")
	_, _, err := d.Request(context.Background(), tn, store.DirectiveRequest{Kind: "forum.thread.explode", UserID: u.ID}, true)
	var v *store.ValidationError
	if !errors.As(err, &v) || v.Fields["kind"] == "" {
		t.Fatalf("unknown kind: got %v, want a validation error on kind", err)
	}
	page, _ := s.ListDirectives(context.Background(), tn, store.DirectiveFilter{})
	if len(page.Directives) != 0 {
		t.Fatal("a refused request left a directive")
	}
}

func TestRequestDirectiveIsIdempotentPerKey(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, u := newTenant(t, s)
	d, _ := newDirectives(s, "test.lock", "test.unlock")
	req := store.DirectiveRequest{Kind: "test.lock", IdempotencyKey: "form-1", UserID: u.ID,
		Subject: store.Subject{Type: "thread", ID: "t1"}, Payload: map[string]string{"thread_id": "t1"}}
	const n = 8
	var wg sync.WaitGroup
	ids := make([]string, n)
	var created atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir, c, err := d.Request(ctx, tn, req, true)
			if err != nil {
				t.Error(err)
			}
			ids[i] = dir.ID
			if c {
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	if created.Load() != 1 {
		t.Fatalf("%d requests created a directive, want 1", created.Load())
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("re-submissions returned different directives: %v", ids)
		}
	}
	var jobsQueued int
	s.DB.Get(&jobsQueued, `SELECT count(*) FROM jobs WHERE tenant_schema = $1 AND kind = $2`, tn.Schema(), store.DirectiveJob)
	if jobsQueued != 1 {
		t.Fatalf("%d directive jobs, want 1", jobsQueued)
	}
	if names := signalNames(t, s, tn, req.Subject); fmt.Sprint(names) != "[directive.requested]" {
		t.Fatalf("signals: %v", names)
	}
	// The same key for another kind is a conflict, not a silent reuse.
	other := req
	other.Kind = "test.unlock"
	if _, _, err := d.Request(ctx, tn, other, true); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same key, other kind: %v", err)
	}
}

func TestDirectiveSucceedsOnceWithItsSignals(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, u := newTenant(t, s)
	d, ex := newDirectives(s, "test.apply")
	ev := startRunner(t, s, d.RegisterJobs, tn)
	sub := store.Subject{Type: "thread", ID: "t-ok"}
	dir, _, err := d.Request(ctx, tn, store.DirectiveRequest{Kind: "test.apply", UserID: u.ID, Subject: sub}, true)
	if err != nil {
		t.Fatal(err)
	}
	ev.Wait(t, "execution", func(evs []jobs.Event) bool { return finished(evs, store.DirectiveJob, jobs.EventCompleted) == 1 })
	got, err := s.Directive(ctx, tn, dir.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.DirectiveSucceeded || got.Attempt != 1 || string(got.Result) != fmt.Sprintf(`{"done": %q}`, dir.ID) ||
		!got.CompletedAt.Valid || got.RequestedByUserID != u.ID {
		t.Fatalf("directive after execution: %+v (result %s)", got, got.Result)
	}
	if names := signalNames(t, s, tn, sub); fmt.Sprint(names) != "[directive.requested directive.started directive.succeeded]" {
		t.Fatalf("signals: %v", names)
	}
	// The job runs again (a retry after a lost completion, a duplicate):
	// the directive has succeeded, so nothing happens.
	if _, _, err := jobs.Enqueue(ctx, s.DB, jobs.Params{Kind: store.DirectiveJob, Tenant: tn.Schema(), Args: map[string]string{"id": dir.ID}}); err != nil {
		t.Fatal(err)
	}
	ev.Wait(t, "repeated job", func(evs []jobs.Event) bool { return finished(evs, store.DirectiveJob, jobs.EventCompleted) == 2 })
	if ex.calls.Load() != 1 || effects(t, s, tn, dir.ID) != 1 {
		t.Fatalf("executor ran %d times, %d effects; want 1 and 1", ex.calls.Load(), effects(t, s, tn, dir.ID))
	}
}

func TestRepeatedRequestsEachMakeADirective(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, u := newTenant(t, s)
	var mu sync.Mutex
	var applied []string
	var kinds []directive.Kind
	for _, k := range []string{"test.thread.lock", "test.thread.unlock"} {
		kinds = append(kinds, directive.Kind{Name: k, Title: k, Pending: k, Run: func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, dir store.Directive) (any, error) {
			mu.Lock()
			applied = append(applied, dir.Name)
			mu.Unlock()
			return nil, nil
		}})
	}
	d := directive.New(s, quiet(), kinds...)
	ev := startRunner(t, s, d.RegisterJobs, tn)
	sub := store.Subject{Type: "thread", ID: "t-mod"}
	seen := map[string]bool{}
	for i, k := range []string{"test.thread.lock", "test.thread.unlock", "test.thread.lock"} {
		dir, created, err := d.Request(ctx, tn, store.DirectiveRequest{Kind: k, IdempotencyKey: fmt.Sprintf("form-%d", i), UserID: u.ID, Subject: sub}, true)
		if err != nil || !created || seen[dir.ID] {
			t.Fatalf("request %d (%s): created=%v err=%v", i, k, created, err)
		}
		seen[dir.ID] = true
		ev.Wait(t, k, func(evs []jobs.Event) bool { return finished(evs, store.DirectiveJob, jobs.EventCompleted) == i+1 })
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(applied) != "[test.thread.lock test.thread.unlock test.thread.lock]" {
		t.Fatalf("applied %v", applied)
	}
	all, err := s.DirectivesBySubjects(ctx, tn, []store.Subject{sub}, 10)
	if err != nil || len(all) != 3 || all[0].Name != "test.thread.lock" || all[1].Name != "test.thread.unlock" {
		t.Fatalf("directives by subject, oldest first: %v %v", all, err)
	}
}

func TestDirectiveFailureKeepsErrorAndCanBeRetried(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, u := newTenant(t, s)
	ex := &effectExecutor{}
	ex.failWith(errors.New("upstream unavailable"))
	var failures atomic.Int32
	fragile := ex.kinds("test.fragile")[0]
	fragile.OnFailure = func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, dir store.Directive, cause error) error {
		failures.Add(1)
		if dir.Status != store.DirectiveFailed || cause.Error() != "upstream unavailable" {
			return fmt.Errorf("failure hook got %s / %v", dir.Status, cause)
		}
		return nil
	}
	d := directive.New(s, quiet(), fragile)
	ev := startRunner(t, s, d.RegisterJobs, tn)
	dir, _, err := d.Request(ctx, tn, store.DirectiveRequest{Kind: "test.fragile", UserID: u.ID, MaxAttempts: 3}, true)
	if err != nil {
		t.Fatal(err)
	}
	ev.Wait(t, "final failure", func(evs []jobs.Event) bool { return finished(evs, store.DirectiveJob, jobs.EventCompleted) == 1 })
	got, _ := s.Directive(ctx, tn, dir.ID)
	if got.Status != store.DirectiveFailed || got.Attempt != 3 || got.LastError != "upstream unavailable" || !got.LastErrorAt.Valid {
		t.Fatalf("failed directive: %+v", got)
	}
	if ex.calls.Load() != 3 || effects(t, s, tn, dir.ID) != 0 || failures.Load() != 1 {
		t.Fatalf("%d executions, %d effects (rolled back: want 0), %d failure hooks", ex.calls.Load(), effects(t, s, tn, dir.ID), failures.Load())
	}
	names := signalNames(t, s, tn, store.Subject{Type: "directive", ID: dir.ID})
	if names[len(names)-1] != "directive.failed" {
		t.Fatalf("signals: %v", names)
	}
	// Retry after the cause is fixed.
	ex.failWith(nil)
	if _, err := s.CancelDirective(ctx, tn, dir.ID, u.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("cancel of a failed directive: %v", err)
	}
	retried, err := s.RetryDirective(ctx, tn, dir.ID, u.ID)
	if err != nil || retried.Status != store.DirectiveRequested || retried.Attempt != 0 {
		t.Fatalf("retry: %+v %v", retried, err)
	}
	ev.Wait(t, "retried execution", func(evs []jobs.Event) bool { return finished(evs, store.DirectiveJob, jobs.EventCompleted) == 2 })
	got, _ = s.Directive(ctx, tn, dir.ID)
	if got.Status != store.DirectiveSucceeded || got.Attempt != 1 || effects(t, s, tn, dir.ID) != 1 {
		t.Fatalf("after retry: %+v, %d effects", got, effects(t, s, tn, dir.ID))
	}
	if _, err := s.RetryDirective(ctx, tn, dir.ID, u.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("retry of a succeeded directive: %v", err)
	}
}

func TestDirectiveRefusalFailsAtOnce(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	d, ex := newDirectives(s, "test.install")
	ex.failWith(store.Invalid("", "this package needs the pro tier"))
	ev := startRunner(t, s, d.RegisterJobs, tn)
	dir, _, _ := d.Request(ctx, tn, store.DirectiveRequest{Kind: "test.install"}, true)
	ev.Wait(t, "failure", func(evs []jobs.Event) bool { return finished(evs, store.DirectiveJob, jobs.EventCompleted) == 1 })
	got, _ := s.Directive(ctx, tn, dir.ID)
	if got.Status != store.DirectiveFailed || got.Attempt != 1 || got.LastError != "this package needs the pro tier" {
		t.Fatalf("refused directive: %+v", got)
	}
}

func TestCancelRequestedDirective(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, u := newTenant(t, s)
	d, ex := newDirectives(s, "test.slow")
	dir, _, err := d.Request(ctx, tn, store.DirectiveRequest{Kind: "test.slow", UserID: u.ID}, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.CancelDirective(ctx, tn, dir.ID, u.ID)
	if err != nil || got.Status != store.DirectiveCanceled {
		t.Fatalf("cancel: %+v %v", got, err)
	}
	if _, err := s.CancelDirective(ctx, tn, dir.ID, u.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second cancel: %v", err)
	}
	if _, err := s.RetryDirective(ctx, tn, dir.ID, u.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("retry of a canceled directive: %v", err)
	}
	if _, err := s.CancelDirective(ctx, tn, "not-a-uuid", u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("cancel of a malformed id: %v", err)
	}
	var state string
	s.DB.Get(&state, `SELECT state FROM jobs WHERE tenant_schema = $1 AND kind = $2`, tn.Schema(), store.DirectiveJob)
	if state != jobs.StateCancelled {
		t.Fatalf("the canceled directive's job is %s", state)
	}
	names := signalNames(t, s, tn, store.Subject{Type: "directive", ID: dir.ID})
	if fmt.Sprint(names) != "[directive.requested directive.canceled]" {
		t.Fatalf("signals: %v", names)
	}
	if ex.calls.Load() != 0 {
		t.Fatal("a canceled directive was executed")
	}
}

func TestListDirectivesFiltersAndPages(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	d, _ := newDirectives(s, "test.a", "test.b")
	var ids []string
	for i := 0; i < 5; i++ {
		k := "test.a"
		if i%2 == 1 {
			k = "test.b"
		}
		dir, _, err := d.Request(ctx, tn, store.DirectiveRequest{Kind: k}, true)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, dir.ID)
	}
	s.CancelDirective(ctx, tn, ids[0], 0)
	var paged []string
	f := store.DirectiveFilter{Limit: 2}
	for {
		page, err := s.ListDirectives(ctx, tn, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range page.Directives {
			paged = append(paged, dir.ID)
		}
		if page.Next == "" {
			break
		}
		f.Before = page.Next
	}
	if fmt.Sprint(paged) != fmt.Sprint([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
		t.Fatalf("pages, newest first: %v", paged)
	}
	byKind, _ := s.ListDirectives(ctx, tn, store.DirectiveFilter{Kind: "test.a", Status: store.DirectiveRequested})
	if len(byKind.Directives) != 2 || byKind.Directives[0].ID != ids[4] {
		t.Fatalf("requested test.a: %v", byKind.Directives)
	}
	counts, err := s.DirectiveCounts(ctx, tn)
	if err != nil || counts[store.DirectiveRequested] != 4 || counts[store.DirectiveCanceled] != 1 {
		t.Fatalf("counts: %v %v", counts, err)
	}
	if _, err := s.ListDirectives(ctx, tn, store.DirectiveFilter{Before: "garbage"}); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
}
