package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// newTenant registers a fresh organization and returns its tenant and owner.
func newTenant(t *testing.T, s *store.Store) (store.Tenant, store.User) {
	t.Helper()
	slug := storetest.Name("sig")
	u, org, err := s.Register(context.Background(), store.Registration{OrgName: "Org " + slug, OrgSlug: slug,
		Name: "Owner", Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	return org.Tenant(), u
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// jobEvents records a runner's events for tests to wait on.
type jobEvents struct {
	mu   sync.Mutex
	all  []jobs.Event
	cond chan struct{}
}

func (e *jobEvents) add(ev jobs.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	close(e.cond)
	e.cond = make(chan struct{})
	e.mu.Unlock()
}

func (e *jobEvents) wait(t *testing.T, what string, pred func([]jobs.Event) bool) {
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

// finished counts jobs of kind that reached a final state or a retry.
func finished(evs []jobs.Event, kind string, what jobs.EventKind) int {
	n := 0
	for _, ev := range evs {
		if ev.Job.Kind == kind && ev.Kind == what {
			n++
		}
	}
	return n
}

// startRunner runs a job runner limited to the given tenants' jobs, so
// parallel tests never take each other's work.
func startRunner(t *testing.T, s *store.Store, register func(*jobs.Runner), tenants ...store.Tenant) *jobEvents {
	t.Helper()
	ev := &jobEvents{cond: make(chan struct{})}
	var schemas []string
	for _, tn := range tenants {
		schemas = append(schemas, tn.Schema())
	}
	r := jobs.New(s.DB, jobs.Config{DSN: storetest.DSN(), Tenants: schemas, PollInterval: 50 * time.Millisecond,
		BackoffFunc: func(int) time.Duration { return 10 * time.Millisecond }, OnEventFunc: ev.add, Logger: quiet()})
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

func emit(t *testing.T, s *store.Store, tn store.Tenant, sig store.NewSignal) (store.Signal, bool) {
	t.Helper()
	var out store.Signal
	var created bool
	err := s.Tx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		out, created, err = s.EmitSignal(context.Background(), tx, tn, sig)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, created
}

func testSignal(name string) store.NewSignal {
	return store.NewSignal{Name: name, Source: "test", Actor: store.SystemActor("test"),
		Subject: store.Subject{Type: "thing", ID: "1"}, Payload: map[string]any{"n": 1}}
}

func TestEmitSignalValidates(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, _ := newTenant(t, s)
	for _, bad := range []store.NewSignal{
		{Name: "NoDots", Source: "test"},
		{Name: "forum.thread.created"},
		{Name: "forum.thread.created", Source: "test", Actor: store.Actor{Type: "user"}},
	} {
		err := s.Tx(context.Background(), func(tx *sqlx.Tx) error {
			_, _, err := s.EmitSignal(context.Background(), tx, tn, bad)
			return err
		})
		var v *store.ValidationError
		if !errors.As(err, &v) {
			t.Errorf("%+v: got %v, want a validation error", bad, err)
		}
	}
}

func TestEmitSignalRolledBackLeavesNothing(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	tx := s.DB.MustBegin()
	sig, created, err := s.EmitSignal(ctx, tx, tn, testSignal("test.rolled_back"))
	if err != nil || !created {
		t.Fatal(created, err)
	}
	tx.Rollback()
	if _, err := s.SignalBySeq(ctx, tn, sig.Seq); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rolled-back signal readable: %v", err)
	}
	var n int
	s.DB.Get(&n, `SELECT count(*) FROM jobs WHERE tenant_schema = $1`, tn.Schema())
	if n != 0 {
		t.Fatalf("a rolled-back emit left %d jobs", n)
	}
}

func TestEmitSignalDedupeUnderConcurrentEmits(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, _ := newTenant(t, s)
	sig := testSignal("test.deduped")
	sig.DedupeKey = "once"
	const n = 12
	var wg sync.WaitGroup
	var createdCount atomic.Int32
	seqs := make([]int64, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Tx(context.Background(), func(tx *sqlx.Tx) error {
				got, created, err := s.EmitSignal(context.Background(), tx, tn, sig)
				seqs[i] = got.Seq
				if created {
					createdCount.Add(1)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if createdCount.Load() != 1 {
		t.Fatalf("%d emits created the signal, want 1", createdCount.Load())
	}
	for _, q := range seqs {
		if q != seqs[0] {
			t.Fatalf("emits returned different signals: %v", seqs)
		}
	}
	var signals, fanouts int
	s.DB.Get(&signals, `SELECT count(*) FROM `+pq.QuoteIdentifier(tn.Schema())+`.signals WHERE dedupe_key = 'once'`)
	s.DB.Get(&fanouts, `SELECT count(*) FROM jobs WHERE tenant_schema = $1 AND kind = $2`, tn.Schema(), store.SignalFanoutJob)
	if signals != 1 || fanouts != 1 {
		t.Fatalf("%d signals and %d fanout jobs, want 1 and 1", signals, fanouts)
	}
}

// A reader resuming "after the last seq it saw" must never skip a signal
// that commits later with a smaller seq.
func TestSignalSeqIsInCommitOrder(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	const writers, each = 6, 30
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Tx(ctx, func(tx *sqlx.Tx) error {
					if _, _, err := s.EmitSignal(ctx, tx, tn, testSignal("test.ordered")); err != nil {
						return err
					}
					// Work after the emit widens the window in which an
					// unserialised transaction would commit out of order.
					_, err := tx.ExecContext(ctx, `SELECT pg_sleep(0.001)`)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()
	var seen []int64
	var cursor int64
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
		}
		page, err := s.SignalsAfter(ctx, tn, cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range page {
			seen = append(seen, sig.Seq)
			cursor = sig.Seq
		}
	}
	for { // drain after the writers finished
		page, _ := s.SignalsAfter(ctx, tn, cursor, 100)
		if len(page) == 0 {
			break
		}
		for _, sig := range page {
			seen = append(seen, sig.Seq)
			cursor = sig.Seq
		}
	}
	var all []int64
	s.DB.Select(&all, `SELECT seq FROM `+pq.QuoteIdentifier(tn.Schema())+`.signals ORDER BY seq`)
	if len(all) != writers*each || fmt.Sprint(seen) != fmt.Sprint(all) {
		t.Fatalf("reader saw %d signals, table has %d (want %d): a resuming reader skipped some", len(seen), len(all), writers*each)
	}
}

func TestSignalNotifiedAfterCommit(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, _ := newTenant(t, s)
	l := pq.NewListener(storetest.DSN(), 10*time.Millisecond, time.Second, nil)
	defer l.Close()
	if err := l.Listen(store.SignalNotifyChannel); err != nil {
		t.Fatal(err)
	}
	// Listen returns once LISTEN ran; anything committed from now on is heard.
	sig, _ := emit(t, s, tn, testSignal("test.notified"))
	timeout := time.After(10 * time.Second)
	for {
		select {
		case n := <-l.Notify:
			if n == nil {
				continue
			}
			schema, seq, err := store.ParseSignalNotification(n.Extra)
			if err != nil {
				t.Fatal(err)
			}
			if schema == tn.Schema() && seq == sig.Seq {
				return
			}
		case <-timeout:
			t.Fatal("no notification for the committed signal")
		}
	}
}

func TestFanoutRetriesFailingHandlerAndDeliversOnce(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	tn, _ := newTenant(t, s)
	bus := store.NewSignalBus(s, quiet())
	var flakyCalls, steadyCalls atomic.Int32
	bus.Handle("flaky", "test.fan.*", func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, sig store.Signal) error {
		if _, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.tenant_skills (skill_slug) VALUES ($1)`), fmt.Sprintf("effect-%d", sig.Seq)); err != nil {
			return err
		}
		if flakyCalls.Add(1) < 3 {
			return errors.New("not yet") // rolls back the insert above
		}
		return nil
	})
	bus.Handle("steady", "*", func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, sig store.Signal) error {
		steadyCalls.Add(1)
		return nil
	})
	bus.Handle("other", "forum.*", func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, sig store.Signal) error {
		return errors.New("must not be called for test.* signals")
	})
	ev := startRunner(t, s, bus.RegisterJobs, tn)
	sig, _ := emit(t, s, tn, testSignal("test.fan.out"))
	ev.wait(t, "fanout completed", func(evs []jobs.Event) bool { return finished(evs, store.SignalFanoutJob, jobs.EventCompleted) == 1 })
	if flakyCalls.Load() != 3 || steadyCalls.Load() != 1 {
		t.Fatalf("flaky ran %d times (want 3), steady %d (want 1: delivered handlers are not re-run)", flakyCalls.Load(), steadyCalls.Load())
	}
	var effects, deliveries int
	s.DB.Get(&effects, `SELECT count(*) FROM `+pq.QuoteIdentifier(tn.Schema())+`.tenant_skills`)
	s.DB.Get(&deliveries, `SELECT count(*) FROM `+pq.QuoteIdentifier(tn.Schema())+`.signal_deliveries WHERE signal_seq = $1`, sig.Seq)
	if effects != 1 || deliveries != 2 {
		t.Fatalf("%d effects and %d deliveries, want 1 and 2", effects, deliveries)
	}
	// A dedupe hit triggers nothing new.
	sig2 := testSignal("test.fan.once")
	sig2.DedupeKey = "k"
	emit(t, s, tn, sig2)
	emit(t, s, tn, sig2)
	ev.wait(t, "second fanout", func(evs []jobs.Event) bool { return finished(evs, store.SignalFanoutJob, jobs.EventCompleted) == 2 })
	var fanouts int
	s.DB.Get(&fanouts, `SELECT count(*) FROM jobs WHERE tenant_schema = $1 AND kind = $2`, tn.Schema(), store.SignalFanoutJob)
	if fanouts != 2 {
		t.Fatalf("%d fanout jobs, want 2 (the dedupe hit adds none)", fanouts)
	}
}

func TestReplayEnqueuesOnlyUndelivered(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	bus := store.NewSignalBus(s, quiet())
	var mu sync.Mutex
	delivered := map[int64]int{}
	bus.Handle("recorder", "test.replay.*", func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, sig store.Signal) error {
		mu.Lock()
		delivered[sig.Seq]++
		mu.Unlock()
		return nil
	})
	old := testSignal("test.replay.a")
	old.OccurredAt = time.Now().Add(-48 * time.Hour)
	a, _ := emit(t, s, tn, old)
	b, _ := emit(t, s, tn, testSignal("test.replay.b"))
	c, _ := emit(t, s, tn, testSignal("test.replay.c"))
	other, _ := emit(t, s, tn, testSignal("test.elsewhere"))
	// The fanout jobs were lost (say, discarded while a handler was broken).
	s.DB.MustExec(`UPDATE jobs SET state = 'discarded', finalized_at = now() WHERE tenant_schema = $1`, tn.Schema())
	// Mark c delivered already.
	s.DB.MustExec(`INSERT INTO `+pq.QuoteIdentifier(tn.Schema())+`.signal_deliveries (signal_seq, handler) VALUES ($1, 'recorder')`, c.Seq)

	// By time range: only b (a is too old; c is delivered; other has no handler).
	rep, err := bus.Replay(ctx, store.ReplayFilter{Tenant: &tn, Since: time.Now().Add(-time.Hour)})
	if err != nil || rep.Enqueued != 1 || rep.Signals != 3 {
		t.Fatalf("replay last hour: %+v %v", rep, err)
	}
	// Again: b's job is queued, so nothing new.
	if rep, err := bus.Replay(ctx, store.ReplayFilter{Tenant: &tn}); err != nil || rep.Enqueued != 1 {
		t.Fatalf("replay everything: %+v %v (want only a added)", rep, err)
	}
	ev := startRunner(t, s, bus.RegisterJobs, tn)
	ev.wait(t, "replayed fanouts", func(evs []jobs.Event) bool { return finished(evs, store.SignalFanoutJob, jobs.EventCompleted) == 2 })
	mu.Lock()
	if delivered[a.Seq] != 1 || delivered[b.Seq] != 1 || delivered[c.Seq] != 0 || delivered[other.Seq] != 0 {
		t.Fatalf("deliveries after replay: %v", delivered)
	}
	mu.Unlock()
	if rep, err := bus.Replay(ctx, store.ReplayFilter{Tenant: &tn}); err != nil || rep.Enqueued != 0 {
		t.Fatalf("replay with everything delivered: %+v %v", rep, err)
	}
	// By name, forced: c is delivered again.
	if rep, err := bus.Replay(ctx, store.ReplayFilter{Tenant: &tn, Name: "test.replay.c", Force: true}); err != nil || rep.Enqueued != 1 {
		t.Fatalf("forced replay of c: %+v %v", rep, err)
	}
	ev.wait(t, "forced fanout", func(evs []jobs.Event) bool { return finished(evs, store.SignalFanoutJob, jobs.EventCompleted) == 3 })
	mu.Lock()
	defer mu.Unlock()
	if delivered[c.Seq] != 1 {
		t.Fatalf("forced replay delivered c %d times", delivered[c.Seq])
	}
}

func TestSignalQueries(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	tn, _ := newTenant(t, s)
	var seqs []int64
	for i := 0; i < 7; i++ {
		sig := testSignal("test.query.a")
		if i%2 == 1 {
			sig.Name = "test.other"
		}
		sig.Subject = store.Subject{Type: "thread", ID: fmt.Sprint(i % 3)}
		got, _ := emit(t, s, tn, sig)
		seqs = append(seqs, got.Seq)
	}
	latest, err := s.LatestSignals(ctx, tn, 2)
	if err != nil || len(latest) != 2 || latest[0].Seq != seqs[6] || latest[1].Seq != seqs[5] {
		t.Fatalf("latest: %v %v", latest, err)
	}
	after, _ := s.SignalsAfter(ctx, tn, seqs[4], 10)
	if len(after) != 2 || after[0].Seq != seqs[5] {
		t.Fatalf("after: %v", after)
	}
	bySubject, _ := s.SignalsBySubjects(ctx, tn, []store.Subject{{Type: "thread", ID: "0"}, {Type: "thread", ID: "2"}}, 100)
	var got []int64
	for _, sig := range bySubject {
		got = append(got, sig.Seq)
	}
	if fmt.Sprint(got) != fmt.Sprint([]int64{seqs[0], seqs[2], seqs[3], seqs[5], seqs[6]}) {
		t.Fatalf("by subject, oldest first: %v", got)
	}
	// Paging by name prefix, newest first.
	var paged []int64
	f := store.SignalFilter{Name: "test.query.*", Limit: 3}
	for {
		page, err := s.ListSignals(ctx, tn, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, sig := range page.Signals {
			paged = append(paged, sig.Seq)
		}
		if page.Next == 0 {
			break
		}
		f.Before = page.Next
	}
	want := []int64{seqs[6], seqs[4], seqs[2], seqs[0]}
	if fmt.Sprint(paged) != fmt.Sprint(want) {
		t.Fatalf("paged: %v, want %v", paged, want)
	}
	if !sort.SliceIsSorted(paged, func(i, j int) bool { return paged[i] > paged[j] }) {
		t.Fatal("pages not newest first")
	}
}
