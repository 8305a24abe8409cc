package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/store/storetest"
)

func TestWorkersExecuteEachJobExactlyOnce(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	const runners, perRunner = 4, 500
	var mu sync.Mutex
	seen := map[int64]int{}
	handler := func(ctx context.Context, j *jobs.Job) error {
		mu.Lock()
		seen[j.ID]++
		mu.Unlock()
		return nil
	}
	ev := newEvents()
	for i := 0; i < runners; i++ {
		startRunner(t, s.DB, jobs.Config{MaxWorkers: 8, OnEventFunc: ev.add}, map[string]jobs.HandlerFunc{k: handler})
	}
	var ps []jobs.Params
	for i := 0; i < runners*perRunner; i++ {
		ps = append(ps, jobs.Params{Kind: k, Args: map[string]int{"n": i}})
	}
	ids, err := jobs.EnqueueMany(ctx, s.DB, ps)
	if err != nil || len(ids) != len(ps) {
		t.Fatalf("enqueue many: %v, %d ids", err, len(ids))
	}
	ev.wait(t, "all completed", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) == len(ps) })
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("job %d ran %d times", id, seen[id])
		}
	}
	var done int
	s.DB.Get(&done, `SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'completed' AND attempt = 1`, k)
	if done != len(ps) {
		t.Fatalf("%d of %d completed on the first attempt", done, len(ps))
	}
}

func TestRetryWithBackoffThenComplete(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	var calls atomic.Int32
	var mu sync.Mutex
	var backoffs []int
	ev := newEvents()
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add, BackoffFunc: func(attempt int) time.Duration {
		mu.Lock()
		backoffs = append(backoffs, attempt)
		mu.Unlock()
		return 20 * time.Millisecond
	}}, map[string]jobs.HandlerFunc{k: func(ctx context.Context, j *jobs.Job) error {
		if calls.Add(1) < 3 {
			return fmt.Errorf("flaky %d", j.Attempt)
		}
		return nil
	}})
	id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 5})
	evs := ev.wait(t, "completion", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) == 1 })
	if n := count(evs, jobs.EventRetried, k); n != 2 {
		t.Fatalf("retried %d times, want 2", n)
	}
	row := getJob(t, s.DB, id)
	if row.State != "completed" || row.Attempt != 3 || row.LastError != "flaky 2" || !strings.Contains(row.Errors, "flaky 1") {
		t.Fatalf("job after retries: %+v", row)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(backoffs) != "[1 2]" {
		t.Fatalf("backoff asked for attempts %v, want [1 2]", backoffs)
	}
}

func TestDefaultBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 30: time.Hour} {
		got := jobs.DefaultBackoff(attempt)
		if got < want*8/10 || got > want*12/10 {
			t.Errorf("attempt %d: backoff %s, want %s ±20%%", attempt, got, want)
		}
	}
}

func TestDiscardAfterMaxAttemptsKeepsError(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	ev := newEvents()
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error { return fmt.Errorf("boom on attempt %d", j.Attempt) },
	})
	id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 3})
	evs := ev.wait(t, "discard", func(evs []jobs.Event) bool { return count(evs, jobs.EventDiscarded, k) == 1 })
	if n := count(evs, jobs.EventRetried, k); n != 2 {
		t.Fatalf("retried %d times before discard, want 2", n)
	}
	row := getJob(t, s.DB, id)
	if row.State != "discarded" || row.Attempt != 3 || row.LastError != "boom on attempt 3" {
		t.Fatalf("discarded job: %+v", row)
	}
	for i := 1; i <= 3; i++ {
		if !strings.Contains(row.Errors, fmt.Sprintf("boom on attempt %d", i)) {
			t.Fatalf("error history lacks attempt %d: %s", i, row.Errors)
		}
	}
}

func TestPermanentErrorDiscardsAtOnce(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	ev := newEvents()
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error { return jobs.Permanent(errors.New("bad args")) },
	})
	id := enqueue(t, s.DB, jobs.Params{Kind: k})
	ev.wait(t, "discard", func(evs []jobs.Event) bool { return count(evs, jobs.EventDiscarded, k) == 1 })
	if row := getJob(t, s.DB, id); row.State != "discarded" || row.Attempt != 1 || row.LastError != "bad args" {
		t.Fatalf("job: %+v", row)
	}
}

func TestPanicIsRecoveredAndRetried(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	ev := newEvents()
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error {
			if j.Attempt == 1 {
				panic("handler bug")
			}
			return nil
		},
	})
	id := enqueue(t, s.DB, jobs.Params{Kind: k})
	ev.wait(t, "completion after panic", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) == 1 })
	if row := getJob(t, s.DB, id); row.State != "completed" || row.Attempt != 2 || row.LastError != "panic: handler bug" {
		t.Fatalf("job: %+v", row)
	}
}

func TestScheduledJobWaitsForItsTime(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	ev := newEvents()
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error { return nil },
	})
	at := time.Now().Add(400 * time.Millisecond)
	enqueue(t, s.DB, jobs.Params{Kind: k, ScheduledAt: at})
	now := enqueue(t, s.DB, jobs.Params{Kind: k})
	evs := ev.wait(t, "both started", func(evs []jobs.Event) bool { return count(evs, jobs.EventStarted, k) == 2 })
	var order []int64
	for _, e := range evs {
		if e.Kind == jobs.EventStarted && e.Job.Kind == k {
			order = append(order, e.Job.ID)
			if e.Job.ID != now && e.At.Before(at) {
				t.Fatalf("scheduled job started at %s, before its time %s", e.At, at)
			}
		}
	}
	if order[0] != now {
		t.Fatalf("the due job should start first: %v", order)
	}
}

func TestPrioritiesRunLowestFirst(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	want := []int16{0, 1, 2, 3, 5}
	for _, p := range []int16{5, 2, 0, 3, 1} {
		enqueue(t, s.DB, jobs.Params{Kind: k, Priority: p})
	}
	ev := newEvents()
	// One slot: jobs run one at a time, in claim order.
	startRunner(t, s.DB, jobs.Config{MaxWorkers: 1, OnEventFunc: ev.add}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error { return nil },
	})
	evs := ev.wait(t, "all started", func(evs []jobs.Event) bool { return count(evs, jobs.EventStarted, k) == len(want) })
	var got []int16
	for _, e := range evs {
		if e.Kind == jobs.EventStarted {
			got = append(got, e.Job.Priority)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ran priorities %v, want %v", got, want)
	}
}

func TestUniqueKeySkipsLiveDuplicate(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	key := storetest.Name("u")
	if _, ok, err := jobs.Enqueue(ctx, s.DB, jobs.Params{Kind: k, UniqueKey: key}); err != nil || !ok {
		t.Fatalf("first enqueue: %v %v", ok, err)
	}
	if _, ok, err := jobs.Enqueue(ctx, s.DB, jobs.Params{Kind: k, UniqueKey: key}); err != nil || ok {
		t.Fatalf("duplicate of a live job was inserted: %v %v", ok, err)
	}
	ids, err := jobs.EnqueueMany(ctx, s.DB, []jobs.Params{{Kind: k, UniqueKey: key}, {Kind: k}})
	if err != nil || len(ids) != 1 {
		t.Fatalf("enqueue many with a duplicate: %v %v", ids, err)
	}
	if ok, err := jobs.CancelByKey(ctx, s.DB, key); err != nil || !ok {
		t.Fatalf("cancel by key: %v %v", ok, err)
	}
	if _, ok, err := jobs.Enqueue(ctx, s.DB, jobs.Params{Kind: k, UniqueKey: key}); err != nil || !ok {
		t.Fatalf("enqueue after the live one was cancelled: %v %v", ok, err)
	}
}

func TestEnqueueInCallerTransaction(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	tx := s.DB.MustBegin()
	if _, _, err := jobs.Enqueue(ctx, tx, jobs.Params{Kind: k}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	var n int
	s.DB.Get(&n, `SELECT count(*) FROM jobs WHERE kind = $1`, k)
	if n != 0 {
		t.Fatalf("a rolled-back enqueue left %d jobs", n)
	}
}

func TestShutdownFinishesInFlightJobs(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	release := make(chan struct{})
	ev := newEvents()
	r := jobs.New(s.DB, jobs.Config{DSN: storetest.DSN(), OnEventFunc: ev.add, Logger: quietLogger()})
	r.Handle(k, func(ctx context.Context, j *jobs.Job) error { <-release; return nil })
	r.Start(context.Background())
	id := enqueue(t, s.DB, jobs.Params{Kind: k})
	ev.wait(t, "start", func(evs []jobs.Event) bool { return count(evs, jobs.EventStarted, k) == 1 })
	stopped := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- r.Stop(ctx)
	}()
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
	if row := getJob(t, s.DB, id); row.State != "completed" {
		t.Fatalf("in-flight job after graceful stop: %+v", row)
	}
}

func TestShutdownReleasesJobsPastDeadline(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	ev := newEvents()
	var sawCancel atomic.Bool
	r := jobs.New(s.DB, jobs.Config{DSN: storetest.DSN(), OnEventFunc: ev.add, Logger: quietLogger()})
	r.Handle(k, func(ctx context.Context, j *jobs.Job) error {
		<-ctx.Done()
		sawCancel.Store(true)
		return ctx.Err()
	})
	r.Start(context.Background())
	id := enqueue(t, s.DB, jobs.Params{Kind: k})
	ev.wait(t, "start", func(evs []jobs.Event) bool { return count(evs, jobs.EventStarted, k) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop past its deadline returned %v", err)
	}
	if !sawCancel.Load() {
		t.Fatal("the handler's context was not cancelled")
	}
	if row := getJob(t, s.DB, id); row.State != "available" || row.Attempt != 0 {
		t.Fatalf("released job should be available, attempt not counted: %+v", row)
	}
	// Another worker takes it at once.
	ev2 := newEvents()
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev2.add}, map[string]jobs.HandlerFunc{k: func(context.Context, *jobs.Job) error { return nil }})
	ev2.wait(t, "completion by the next worker", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) == 1 })
	if row := getJob(t, s.DB, id); row.State != "completed" || row.Attempt != 1 {
		t.Fatalf("job after release: %+v", row)
	}
}

// A worker must not finalise a job that was taken from it (rescued and
// claimed again) while its handler still ran.
func TestFinaliseOnlyWhileStillClaimed(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	release := make(chan struct{})
	ev := newEvents()
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error { <-release; return nil },
	})
	id := enqueue(t, s.DB, jobs.Params{Kind: k})
	ev.wait(t, "start", func(evs []jobs.Event) bool { return count(evs, jobs.EventStarted, k) == 1 })
	// Someone else now holds the job (as after a rescue and a new claim).
	s.DB.MustExec(`UPDATE jobs SET attempt = attempt + 1, attempted_by = 'other-worker' WHERE id = $1`, id)
	close(release)
	// The runner's own outcome is dropped; wait until its write went out
	// by enqueueing and completing a second job after it.
	id2 := enqueue(t, s.DB, jobs.Params{Kind: k})
	evs := ev.wait(t, "second job", func(evs []jobs.Event) bool {
		for _, e := range evs {
			if e.Kind == jobs.EventCompleted && e.Job.ID == id2 {
				return true
			}
		}
		return false
	})
	for _, e := range evs {
		if e.Kind == jobs.EventCompleted && e.Job.ID == id {
			t.Fatal("runner reported completing a job it no longer held")
		}
	}
	if row := getJob(t, s.DB, id); row.State != "running" || row.Attempt != 2 {
		t.Fatalf("job taken over by another worker was changed: %+v", row)
	}
}
