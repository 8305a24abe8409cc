package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// inflight is a job this runner is executing.
type inflight struct {
	attempt int
	claimed time.Time
	// beat is when its heartbeat was last written (at the latest): the
	// claim, then each renewal.
	beat time.Time
	hung bool // past RescueAfter: no longer renewed
	// cancel ends the handler's context: at JobTimeout, or when a
	// heartbeat finds the job no longer held by this runner.
	cancel context.CancelFunc
}

// forget drops a finished job from the in-flight set and releases its
// context. The attempt must match: after a rescue, this runner may have
// claimed the same job again.
func (r *Runner) forget(j *Job) {
	r.mu.Lock()
	f := r.inflight[j.ID]
	if f != nil && f.attempt == j.Attempt {
		delete(r.inflight, j.ID)
	} else {
		f = nil
	}
	r.mu.Unlock()
	if f != nil {
		f.cancel() // outside the lock: it takes the parent context's
	}
}

// heartbeat renews the heartbeats of the in-flight jobs every
// HeartbeatInterval until ctx is done. It runs from Start until Stop has
// let the handlers finish, so that a long graceful shutdown does not get
// its jobs rescued under it.
func (r *Runner) heartbeat(ctx context.Context) {
	every(ctx, r.cfg.HeartbeatInterval, func() {
		if err := r.beat(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("job heartbeat", "err", err)
		}
	})
}

// every calls fn every d until ctx is done: the shape of the runner's
// background loops.
func every(ctx context.Context, d time.Duration, fn func()) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fn()
		}
	}
}

// beat writes one heartbeat for every in-flight job not renewed within
// half an interval (a job claimed just now carries a fresh one already,
// so a queue of short jobs costs no heartbeats at all), in one statement.
// A job claimed more than RescueAfter ago is no longer renewed: its
// handler hangs past JobTimeout, ignoring its cancelled context, and the
// job is left to the rescuers.
// A job the statement finds no longer held, running under this runner and
// attempt, was rescued and maybe claimed again elsewhere: its handler is
// cancelled, as its result would be dropped anyway.
func (r *Runner) beat(ctx context.Context) error {
	now := time.Now()
	due := now.Add(-r.cfg.HeartbeatInterval / 2)
	var ids, attempts []int64
	r.mu.Lock()
	var hung []int64
	for id, f := range r.inflight {
		switch {
		case now.Sub(f.claimed) > r.cfg.RescueAfter:
			if !f.hung {
				f.hung = true
				hung = append(hung, id)
			}
		case f.beat.Before(due):
			ids = append(ids, id)
			attempts = append(attempts, int64(f.attempt))
		}
	}
	r.mu.Unlock()
	if len(hung) > 0 {
		r.log.Error("handlers still running past RescueAfter: their jobs are left to the rescuers", "job_ids", hung, "rescue_after", r.cfg.RescueAfter)
	}
	if len(ids) == 0 {
		return nil
	}
	var held []int64
	err := r.db.SelectContext(ctx, &held, r.beatSQL, pq.Array(ids), pq.Array(attempts), r.cfg.ID)
	if err != nil {
		return fmt.Errorf("renew %d heartbeats: %w", len(ids), err)
	}
	still := make(map[int64]bool, len(held))
	for _, id := range held {
		still[id] = true
	}
	var lost []int64
	r.mu.Lock()
	for i, id := range ids {
		f := r.inflight[id]
		if f == nil || int64(f.attempt) != attempts[i] {
			continue // finished meanwhile
		}
		if still[id] {
			f.beat = now
			continue
		}
		delete(r.inflight, id)
		f.cancel()
		lost = append(lost, id)
	}
	r.mu.Unlock()
	if len(lost) > 0 {
		r.log.Warn("jobs taken from this runner while running (rescued after a missed heartbeat?): handlers cancelled", "job_ids", lost)
	}
	return nil
}

// beatSQL renews heartbeats, each only while the job is still running
// under the attempt this runner claimed, and returns those it renewed.
func beatSQL(commit string) string {
	return `
	UPDATE public.jobs j SET heartbeat_at = now()
	  FROM unnest($1::bigint[], $2::int[]) AS c(id, attempt)
	 WHERE ` + commit + ` AND j.id = c.id AND j.attempt = c.attempt AND j.state = 'running' AND j.attempted_by = $3
	RETURNING j.id`
}
