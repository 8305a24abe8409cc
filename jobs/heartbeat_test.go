package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/store/storetest"
)

// Heartbeats keep a long job its runner's, well past the heartbeat
// timeout; JobTimeout still cancels the handler, and the job is retried
// as a failure, not rescued.
func TestJobTimeoutCancelsAHeartbeatingHandler(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	const timeout = 2 * time.Second
	var ran atomic.Int64
	ev := newEvents()
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add, JobTimeout: timeout, HeartbeatTimeout: 500 * time.Millisecond,
		HeartbeatInterval: 100 * time.Millisecond, RescueInterval: testRescueInterval}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error {
			if j.Attempt > 1 {
				return nil
			}
			began := time.Now()
			<-ctx.Done()
			ran.Store(int64(time.Since(began)))
			return ctx.Err()
		},
	})
	id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 3})
	ev.wait(t, "completion of the retry", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) == 1 })
	// JobTimeout runs from the claim, a moment before the handler starts;
	// the heartbeat timeout is a quarter of it.
	if d := time.Duration(ran.Load()); d < timeout-500*time.Millisecond {
		t.Fatalf("handler cancelled after %s, want JobTimeout %s", d, timeout)
	}
	row := getJob(t, s.DB, id)
	if row.State != "completed" || row.Attempt != 2 || !strings.Contains(row.Errors, "deadline exceeded") || strings.Contains(row.Errors, "rescued") {
		t.Fatalf("job after its first attempt timed out: %+v", row)
	}
}

// A handler that ignores its cancelled context still heartbeats, until
// RescueAfter: then its runner stops renewing the job, a rescuer makes it
// available, and the next attempt completes it. The hung attempt's late
// result is dropped.
func TestHandlerHangingPastRescueAfterIsRescued(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	release := make(chan struct{})
	var cancelled atomic.Bool
	ev := newEvents()
	r := startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add, JobTimeout: 300 * time.Millisecond, RescueAfter: time.Second,
		HeartbeatTimeout: 600 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond, RescueInterval: testRescueInterval},
		map[string]jobs.HandlerFunc{k: func(ctx context.Context, j *jobs.Job) error {
			if j.Attempt > 1 {
				return nil
			}
			<-release // deaf to ctx
			cancelled.Store(errors.Is(ctx.Err(), context.DeadlineExceeded))
			return nil
		}})
	id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 3})
	ev.wait(t, "completion of the second attempt", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) == 1 })
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil { // flushes the hung attempt's result
		t.Fatal(err)
	}
	if !cancelled.Load() {
		t.Fatal("the hung handler's context was not cancelled at JobTimeout")
	}
	evs := ev.wait(t, "stopped", func([]jobs.Event) bool { return true })
	if n := count(evs, jobs.EventCompleted, k); n != 1 {
		t.Fatalf("%d completions reported, want 1 (the hung attempt's must be dropped)", n)
	}
	row := getJob(t, s.DB, id)
	if row.State != "completed" || row.Attempt != 2 || !strings.Contains(row.Errors, "rescued: no heartbeat") {
		t.Fatalf("job after its hung attempt: %+v", row)
	}
}
