package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// HandlerFunc does one job's work. Returning nil completes the job; an
// error retries it after a backoff (or discards it after its last attempt,
// or at once when wrapped with Permanent). A panic counts as an error.
// ctx is cancelled after Config.JobTimeout and when a shutdown runs out of
// time. The same job may run more than once (at-least-once delivery).
type HandlerFunc func(ctx context.Context, job *Job) error

// Runner claims and executes jobs. Build it with New, register handlers
// with Handle, then Start it; Stop it before closing the pool.
type Runner struct {
	db       *sqlx.DB
	cfg      Config
	log      *slog.Logger
	handlers map[string]HandlerFunc
	kinds    any // pq array of the handled kinds, fixed at Start

	mu      sync.Mutex
	started bool
	stopped bool
	// inflight maps the jobs being executed to their attempt, so a
	// shutdown out of time can release exactly those.
	inflight map[int64]int

	active    atomic.Int64 // handler slots in use
	moreMaybe atomic.Bool  // the last claim was full: more jobs may be waiting
	wake      chan struct{}

	stopProduce context.CancelFunc
	produced    chan struct{} // closed when the producer and listener have returned
	workCtx     context.Context
	cancelWork  context.CancelFunc
	handlersWG  sync.WaitGroup
	completer   *completer
}

// New builds a runner over db. The maintenance kinds (KindRescue,
// KindPrune) are registered already.
func New(db *sqlx.DB, cfg Config) *Runner {
	cfg = cfg.withDefaults()
	r := &Runner{
		db:       db,
		cfg:      cfg,
		log:      cfg.Logger.With("component", "jobs", "worker", cfg.ID),
		handlers: map[string]HandlerFunc{},
		inflight: map[int64]int{},
		wake:     make(chan struct{}, 1),
	}
	r.Handle(KindRescue, r.rescueHandler)
	r.Handle(KindPrune, r.pruneHandler)
	return r
}

// Config returns the runner's configuration, defaults filled in.
func (r *Runner) Config() Config { return r.cfg }

// Handle registers fn for jobs of kind. It panics when called after Start
// or twice for one kind: both are wiring mistakes to catch at boot.
func (r *Runner) Handle(kind string, fn HandlerFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		panic("jobs: Handle(" + kind + ") after Start")
	}
	if _, dup := r.handlers[kind]; dup {
		panic("jobs: two handlers for kind " + kind)
	}
	r.handlers[kind] = fn
}

// Kinds lists the registered job kinds, sorted.
func (r *Runner) Kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Start begins listening, claiming and executing. It returns at once; the
// runner works until Stop (or until ctx is cancelled, which stops claiming
// but, unlike Stop, neither waits for nor releases in-flight jobs).
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("jobs: runner already started")
	}
	r.started = true
	kinds := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		kinds = append(kinds, k)
	}
	r.kinds = pq.Array(kinds)
	// Handlers outlive ctx's cancellation so that Stop decides when they
	// are cut short; ctx's values still reach them.
	r.workCtx, r.cancelWork = context.WithCancel(context.WithoutCancel(ctx))
	r.completer = newCompleter(r)
	go r.completer.run()

	pctx, cancel := context.WithCancel(ctx)
	r.stopProduce = cancel
	r.produced = make(chan struct{})
	var wg sync.WaitGroup
	if r.cfg.DSN != "" {
		wg.Add(1)
		go func() { defer wg.Done(); r.listen(pctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); r.produce(pctx) }()
	go func() { wg.Wait(); close(r.produced) }()
	r.log.Info("job runner started", "max_workers", r.cfg.MaxWorkers, "listen", r.cfg.DSN != "", "kinds", len(r.handlers))
	return nil
}

// Stop shuts the runner down: it stops claiming, waits for in-flight jobs
// until ctx is done, then cancels the handlers still running and releases
// their jobs back to available (without counting the attempt) so another
// worker takes them at once. Finished results are flushed before it
// returns. It returns ctx's error when jobs had to be released.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	if !r.started || r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	r.mu.Unlock()

	r.stopProduce()
	<-r.produced

	done := make(chan struct{})
	go func() { r.handlersWG.Wait(); close(done) }()
	var stopErr error
	select {
	case <-done:
	case <-ctx.Done():
		stopErr = ctx.Err()
		// Release before cancelling, so a handler that returns on
		// cancellation finds its job no longer held and its (failed)
		// outcome is dropped rather than counted as an attempt.
		released, err := r.releaseInflight()
		if err != nil {
			r.log.Error("releasing in-flight jobs", "err", err)
		} else {
			r.log.Warn("shutdown deadline passed: released in-flight jobs", "released", released)
		}
		r.cancelWork()
		// Cancelled handlers return promptly when they honour ctx; wait for
		// them (bounded: one that ignores ctx must not hang the shutdown),
		// so nothing still runs once Stop has returned.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			r.log.Error("handlers ignored cancellation; stopping without them")
		}
	}
	r.completer.close()
	r.cancelWork()
	r.log.Info("job runner stopped")
	return stopErr
}

// notifyWake asks the producer to claim again, without blocking: one
// pending wake-up stands for any number.
func (r *Runner) notifyWake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// listen holds a LISTEN connection on NotifyChannel and wakes the producer
// on every notification, and after every reconnect (notifications sent
// while disconnected are lost, so it must look).
func (r *Runner) listen(ctx context.Context) {
	l := pq.NewListener(r.cfg.DSN, 10*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil && ctx.Err() == nil {
			r.log.Warn("job listener", "event", ev, "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen(NotifyChannel); err != nil {
		r.log.Error("listen for jobs: polling only", "err", err)
		return
	}
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.Notify:
			r.notifyWake()
		case <-ping.C:
			// A dead connection is only noticed when used; Ping makes the
			// listener reconnect (and send the nil notification above).
			go l.Ping()
		}
	}
}

// produce claims jobs whenever there is reason to believe some wait: a
// notification, a finished job after a full claim, or the poll tick. There
// is no cooldown between claims: a claim only runs when it can find work.
func (r *Runner) produce(ctx context.Context) {
	poll := time.NewTicker(r.cfg.PollInterval)
	defer poll.Stop()
	failures := 0
	for {
		if err := r.claimAndRun(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait := min(time.Duration(failures)*100*time.Millisecond, 5*time.Second)
			r.log.Error("claim jobs", "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		failures = 0
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-poll.C:
		}
	}
}

// claimSQL claims up to $1 due jobs in priority order in one statement,
// through public.jobs_claim (migration 0004), which pins the plan to an
// ordered walk of the fetch index: with stale statistics the planner
// otherwise scans and sorts the whole backlog on every claim. SKIP LOCKED
// lets any number of workers claim at once without waiting on each other
// or taking the same row. A runner claims only the kinds it has handlers
// for ($3), so during a rolling deploy an older worker leaves a newer kind
// to a worker that knows it; $4 (NULL for all) limits it to some tenants.
const claimSQL = `
	SELECT id, kind, coalesce(tenant_schema, ''), args, attempt, max_attempts, priority, scheduled_at, created_at
	  FROM public.jobs_claim($1, $2, $3, $4)
	 WHERE ` + asyncCommit

// asyncCommit is a WHERE condition that turns synchronous_commit off for
// the statement's own (implicit) transaction, as SET LOCAL would:
// set_config(…, true) lasts until the transaction ends, and it is read at
// commit. Claims and results then commit without waiting for the WAL
// flush. Losing one in a server crash is harmless, as a job is delivered
// at least once anyway: a lost claim makes the job available again, a lost
// result leaves it running until the rescuer retries it. Enqueues and the
// handlers' own transactions stay durable.
const asyncCommit = `(SELECT set_config('synchronous_commit', 'off', true)) = 'off'`

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
	var tenants any // NULL: every tenant
	if len(r.cfg.Tenants) > 0 {
		tenants = pq.Array(r.cfg.Tenants)
	}
	// A claim once sent is seen through even if shutdown begins meanwhile:
	// cut off after the database committed it, the jobs it took would stay
	// running under this runner, neither run nor released, until the
	// rescuer took them back (RescueAfter later). Claimed, they are in
	// flight, and Stop finishes or releases them like the others.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	rows, err := r.db.QueryContext(cctx, claimSQL, free, r.cfg.ID, r.kinds, tenants)
	if err != nil {
		return err
	}
	defer rows.Close()
	var claimed []*Job
	for rows.Next() {
		j := &Job{}
		var args []byte
		if err := rows.Scan(&j.ID, &j.Kind, &j.Tenant, &args, &j.Attempt, &j.MaxAttempts, &j.Priority, &j.ScheduledAt, &j.CreatedAt); err != nil {
			return err
		}
		j.Args = args
		claimed = append(claimed, j)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// A full claim means more may be waiting: the next finished job
	// should wake the producer. A partial one drained what was due.
	r.moreMaybe.Store(len(claimed) == free)
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
	r.mu.Lock()
	for _, j := range claimed {
		r.inflight[j.ID] = j.Attempt
	}
	r.mu.Unlock()
	r.active.Add(int64(len(claimed)))
	r.handlersWG.Add(len(claimed))
	for _, j := range claimed {
		go r.execute(j)
	}
	return nil
}

// execute runs one job and hands its outcome to the completer.
func (r *Runner) execute(j *Job) {
	defer r.handlersWG.Done()
	if r.cfg.OnEventFunc != nil {
		r.cfg.OnEventFunc(Event{Kind: EventStarted, Job: j, At: time.Now()})
	}
	err := r.runHandler(j)
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
	r.mu.Lock()
	delete(r.inflight, j.ID)
	r.mu.Unlock()
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

// runHandler calls the kind's handler with a timeout, turning a panic
// into an error so one bad job cannot take the process down.
func (r *Runner) runHandler(j *Job) (err error) {
	fn := r.handlers[j.Kind]
	if fn == nil { // cannot happen: claims are limited to handled kinds
		return fmt.Errorf("no handler registered for job kind %q", j.Kind)
	}
	ctx, cancel := context.WithTimeout(r.workCtx, r.cfg.JobTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			r.log.Error("job handler panicked", "job_id", j.ID, "kind", j.Kind, "panic", p, "stack", stack())
		}
	}()
	return fn(ctx, j)
}

// releaseInflight puts the jobs still executing back to available, as if
// never attempted, so another worker picks them up at once.
func (r *Runner) releaseInflight() (int, error) {
	r.mu.Lock()
	ids := make([]int64, 0, len(r.inflight))
	attempts := make([]int64, 0, len(r.inflight))
	for id, a := range r.inflight {
		ids = append(ids, id)
		attempts = append(attempts, int64(a))
	}
	r.inflight = map[int64]int{}
	r.mu.Unlock()
	if len(ids) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	err := r.db.GetContext(ctx, &n, `
		WITH released AS (
			UPDATE public.jobs j
			   SET state = 'available', attempt = j.attempt - 1, attempted_by = NULL, scheduled_at = now()
			  FROM unnest($1::bigint[], $2::int[]) AS c(id, attempt)
			 WHERE j.id = c.id AND j.attempt = c.attempt AND j.state = 'running' AND j.attempted_by = $3
			RETURNING j.id)
		SELECT count(*) FROM released, LATERAL (SELECT pg_notify('`+NotifyChannel+`', '')) n`,
		pq.Array(ids), pq.Array(attempts), r.cfg.ID)
	if err != nil {
		return 0, fmt.Errorf("release %d in-flight jobs: %w", len(ids), err)
	}
	return n, nil
}
