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

	mu      sync.Mutex
	started bool
	stopped bool
	// inflight holds the jobs being executed: their heartbeats are
	// renewed, and a shutdown out of time releases exactly those.
	inflight map[int64]*inflight

	active    atomic.Int64 // handler slots in use
	moreMaybe atomic.Bool  // the last claim was full: more jobs may be waiting
	wake      chan struct{}

	// The runner's own statements, built once for Config.SyncCommit
	// (claimTail at Start, when the kinds are known).
	commit, claimTail, beatSQL, finalizeSQL string

	stopProduce context.CancelFunc
	produced    chan struct{} // closed when the producer, listener and rescuer have returned
	stopBeat    context.CancelFunc
	beaten      chan struct{}   // closed when the heartbeat loop has returned
	jobCtx      context.Context // Start's values, never cancelled: the parent of the jobs' contexts
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
		inflight: map[int64]*inflight{},
		wake:     make(chan struct{}, 1),
	}
	r.commit = commitCondition(cfg)
	r.beatSQL, r.finalizeSQL = beatSQL(r.commit), finalizeSQL(r.commit)
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
	r.claimTail = claimTail(r.cfg, kinds, r.commit)
	// Handlers outlive ctx's cancellation so that Stop decides when they
	// are cut short; ctx's values still reach them.
	r.jobCtx = context.WithoutCancel(ctx)
	r.completer = newCompleter(r)
	go r.completer.run()
	// Heartbeats outlive ctx too: in-flight jobs keep running after it.
	bctx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	r.stopBeat, r.beaten = stopBeat, make(chan struct{})
	go func() { defer close(r.beaten); r.heartbeat(bctx) }()

	pctx, cancel := context.WithCancel(ctx)
	r.stopProduce = cancel
	r.produced = make(chan struct{})
	var wg sync.WaitGroup
	if r.cfg.DSN != "" {
		wg.Add(1)
		go func() { defer wg.Done(); r.listen(pctx) }()
	}
	if r.cfg.RescueInterval > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); r.rescuer(pctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); r.produce(pctx) }()
	go func() { wg.Wait(); close(r.produced) }()
	r.log.Info("job runner started", "max_workers", r.cfg.MaxWorkers, "listen", r.cfg.DSN != "", "kinds", len(r.handlers),
		"heartbeat_timeout", r.cfg.HeartbeatTimeout, "sync_commit", r.cfg.SyncCommit)
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
		taken := r.takeInflight()
		released, err := r.release(taken)
		if err != nil {
			r.log.Error("releasing in-flight jobs", "err", err)
		} else {
			r.log.Warn("shutdown deadline passed: released in-flight jobs", "released", released)
		}
		for _, f := range taken {
			f.cancel()
		}
		// Cancelled handlers return promptly when they honour ctx; wait for
		// them (bounded: one that ignores ctx must not hang the shutdown),
		// so nothing still runs once Stop has returned.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			r.log.Error("handlers ignored cancellation; stopping without them")
		}
	}
	// Nothing runs any more (or what ignored cancellation was released):
	// no heartbeat is owed.
	r.stopBeat()
	<-r.beaten
	r.completer.close()
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

// takeInflight empties the in-flight set and returns what it held: jobs
// no longer this runner's to heartbeat.
func (r *Runner) takeInflight() map[int64]*inflight {
	r.mu.Lock()
	defer r.mu.Unlock()
	taken := r.inflight
	r.inflight = map[int64]*inflight{}
	return taken
}

// release puts jobs still executing back to available, as if never
// attempted, so another worker picks them up at once.
func (r *Runner) release(jobs map[int64]*inflight) (int, error) {
	ids := make([]int64, 0, len(jobs))
	attempts := make([]int64, 0, len(jobs))
	for id, f := range jobs {
		ids = append(ids, id)
		attempts = append(attempts, int64(f.attempt))
	}
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
