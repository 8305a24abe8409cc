package jobs_test

import (
	"context"
	"testing"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/store/storetest"
)

// A claim under way when shutdown begins is finished, not cut off: cut
// off after the database committed it, the jobs it took would stay
// running under a stopped runner, never run nor released, until the
// rescuer takes them back minutes later (a run queued for minutes after
// every deploy). Runners stopped without grace while they claim a
// backlog of short jobs, again and again, must leave no job running.
func TestStopDuringClaimStrandsNoJob(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	for range 400 {
		enqueue(t, s.DB, jobs.Params{Kind: k})
	}
	left := func(state string) int {
		var n int
		if err := s.DB.Get(&n, `SELECT count(*) FROM jobs WHERE kind = $1 AND state = $2`, k, state); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for cycle := 0; cycle < 50 && left("available") > 0; cycle++ {
		ev := newEvents()
		r := jobs.New(s.DB, jobs.Config{DSN: storetest.DSN(), MaxWorkers: 2, PollInterval: 10 * time.Millisecond,
			Logger: quietLogger(), OnEventFunc: ev.add})
		r.Handle(k, func(context.Context, *jobs.Job) error { return nil })
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ev.wait(t, "a job done", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) > 0 })
		gone, cancel := context.WithCancel(context.Background())
		cancel() // no grace
		r.Stop(gone)
		if n := left("running"); n > 0 {
			t.Fatalf("cycle %d: %d jobs left running by a stopped runner", cycle, n)
		}
	}
}
