package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/lib/pq"
)

// claimQuery claims up to n due jobs in priority order in one statement,
// through public.jobs_claim (migrations 0004, 0005), which pins the plan
// to an ordered walk of the fetch index: with stale statistics the planner
// otherwise scans and sorts the whole backlog on every claim. SKIP LOCKED
// lets any number of workers claim at once without waiting on each other
// or taking the same row. A runner claims only the kinds it has handlers
// for, so during a rolling deploy an older worker leaves a newer kind to a
// worker that knows it, and only its Tenants' jobs if it has any; the
// claim writes this runner's heartbeat timeout on the jobs for the
// rescuers. The rest of the statement is fixed at Start (claimTail).
func (r *Runner) claimQuery(n int) string {
	return `
	SELECT id, kind, coalesce(tenant_schema, ''), args, attempt, max_attempts, priority, scheduled_at, created_at
	  FROM public.jobs_claim(` + strconv.Itoa(n) + r.claimTail
}

// claimTail is the end of claimQuery: commit is asyncCommit or "true" (see
// Config.SyncCommit).
func claimTail(cfg Config, kinds []string, commit string) string {
	tenants := "NULL"
	if len(cfg.Tenants) > 0 {
		tenants = textArray(cfg.Tenants)
	}
	return ", " + pq.QuoteLiteral(cfg.ID) + ", " + textArray(kinds) + ", " + tenants +
		", interval '" + strconv.FormatInt(cfg.HeartbeatTimeout.Milliseconds(), 10) + " milliseconds')\n\t WHERE " + commit
}

// asyncCommit is a WHERE condition that turns synchronous_commit off for
// the statement's own (implicit) transaction, as SET LOCAL would:
// set_config(…, true) lasts until the transaction ends, and it is read at
// commit. Claims, heartbeats and results then commit without waiting for
// the WAL flush. Losing one in a server crash is harmless, as a job is
// delivered at least once anyway: a lost claim makes the job available
// again, a lost result leaves it running until its heartbeat times out and
// a rescuer retries it. Enqueues and the handlers' own transactions stay
// durable.
const asyncCommit = `(SELECT set_config('synchronous_commit', 'off', true)) = 'off'`

// commitCondition is the condition the runner's own statements carry.
func commitCondition(cfg Config) string {
	if cfg.SyncCommit {
		return "true"
	}
	return asyncCommit
}

func (r *Runner) claimAndRun(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil // shutting down: claim nothing more
	}
	free := r.cfg.MaxWorkers - int(r.active.Load())
	if free <= 0 {
		// Every slot is busy: a finishing job wakes us.
		r.moreMaybe.Store(true)
		return nil
	}
	claimed, at, err := r.claim(ctx, free)
	if err != nil {
		return err
	}
	// A full claim means more may be waiting: the next finished job
	// should wake the producer. A partial one drained what was due.
	r.moreMaybe.Store(len(claimed) == free)
	ctxs := make([]context.Context, len(claimed))
	deadline := at.Add(r.cfg.JobTimeout)
	r.mu.Lock()
	for i, j := range claimed {
		// Not a child of a cancellable context: a thousand jobs ending at
		// once would queue on its lock to leave its set of children. Stop
		// cancels the in-flight jobs one by one instead.
		var cancel context.CancelFunc
		ctxs[i], cancel = context.WithDeadline(r.jobCtx, deadline)
		if old := r.inflight[j.ID]; old != nil {
			// An earlier attempt's handler still runs here, but the job
			// was rescued from it: its result would be dropped.
			old.cancel()
		}
		r.inflight[j.ID] = &inflight{attempt: j.Attempt, claimed: at, beat: at, cancel: cancel}
	}
	r.mu.Unlock()
	r.active.Add(int64(len(claimed)))
	r.handlersWG.Add(len(claimed))
	for i, j := range claimed {
		go r.execute(ctxs[i], j)
	}
	return nil
}

// claim runs claimQuery for up to n jobs and returns them most urgent
// first, with the time the claim was sent (no later than its heartbeat).
func (r *Runner) claim(ctx context.Context, n int) ([]*Job, time.Time, error) {
	at := time.Now()
	// A claim once sent is seen through even if shutdown begins meanwhile:
	// cut off after the database committed it, the jobs it took would stay
	// running under this runner, neither run nor released, until the
	// rescuer took them back. Claimed, they are in flight, and Stop
	// finishes or releases them like the others.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	rows, err := r.db.QueryContext(ctx, r.claimQuery(n))
	if err != nil {
		return nil, at, err
	}
	defer rows.Close()
	var claimed []*Job
	for rows.Next() {
		j := &Job{}
		var args []byte
		if err := rows.Scan(&j.ID, &j.Kind, &j.Tenant, &args, &j.Attempt, &j.MaxAttempts, &j.Priority, &j.ScheduledAt, &j.CreatedAt); err != nil {
			return nil, at, err
		}
		j.Args = args
		claimed = append(claimed, j)
	}
	if err := rows.Err(); err != nil {
		return nil, at, err
	}
	// RETURNING has no order; start the most urgent first.
	sort.Slice(claimed, func(a, b int) bool {
		ja, jb := claimed[a], claimed[b]
		if ja.Priority != jb.Priority {
			return ja.Priority < jb.Priority
		}
		if !ja.ScheduledAt.Equal(jb.ScheduledAt) {
			return ja.ScheduledAt.Before(jb.ScheduledAt)
		}
		return ja.ID < jb.ID
	})
	return claimed, at, nil
}

// execute runs one job and hands its outcome to the completer. ctx is the
// job's own: JobTimeout, and cancelled when its heartbeat finds the job
// taken away.
func (r *Runner) execute(ctx context.Context, j *Job) {
	defer r.handlersWG.Done()
	if r.cfg.OnEventFunc != nil {
		r.cfg.OnEventFunc(Event{Kind: EventStarted, Job: j, At: time.Now()})
	}
	err := r.runHandler(ctx, j)
	res := result{job: j}
	switch {
	case err == nil:
		res.state = StateCompleted
	case IsPermanent(err) || j.LastAttempt():
		res.state, res.err = StateDiscarded, err
	default:
		res.state, res.err = StateAvailable, err
		res.delay = r.cfg.BackoffFunc(j.Attempt)
	}
	if err != nil {
		lvl := slog.LevelWarn
		if res.state == StateDiscarded {
			lvl = slog.LevelError
		}
		r.log.Log(context.Background(), lvl, "job failed", "job_id", j.ID, "kind", j.Kind, "tenant", j.Tenant,
			"attempt", j.Attempt, "max_attempts", j.MaxAttempts, "next", res.state, "retry_in", res.delay, "err", err)
	}
	r.forget(j)
	// Free the slot before the result is written: finalising is batched
	// and must not hold back the next claim. With a backlog, claim again
	// once a tenth of the slots are free rather than for every slot: a
	// claim costs about the same for 1 job as for 100. A light queue never
	// has moreMaybe set, so this costs it no latency.
	free := r.cfg.MaxWorkers - int(r.active.Add(-1))
	if r.moreMaybe.Load() && free >= max(1, r.cfg.MaxWorkers/10) {
		r.notifyWake()
	}
	r.completer.submit(res)
}

// runHandler calls the kind's handler, turning a panic into an error so
// one bad job cannot take the process down.
func (r *Runner) runHandler(ctx context.Context, j *Job) (err error) {
	fn := r.handlers[j.Kind]
	if fn == nil { // cannot happen: claims are limited to handled kinds
		return fmt.Errorf("no handler registered for job kind %q", j.Kind)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			r.log.Error("job handler panicked", "job_id", j.ID, "kind", j.Kind, "panic", p, "stack", stack())
		}
	}()
	return fn(ctx, j)
}
