package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/robfig/cron/v3"
)

// CronTask enqueues one job on a schedule. Cron only enqueues; a worker
// (of any process) does the work, with the job runner's retries.
type CronTask struct {
	// Name identifies the task across instances (its cron_tasks row).
	Name string
	// Schedule is a robfig/cron spec: "@every 5m", "@hourly", "*/10 * * * *".
	// "off" disables the task. Periods under two seconds are not supported.
	Schedule string
	// Job is what each tick enqueues. Its UniqueKey defaults to
	// "cron:<Name>", so a tick finding the last run still queued adds
	// nothing.
	Job Params
}

// CronConfig configures the platform's schedules. Empty schedules take
// their defaults.
type CronConfig struct {
	// RescueSchedule enqueues KindRescue (default "@every 1m").
	RescueSchedule string
	// PruneSchedule enqueues KindPrune (default "@every 1h").
	PruneSchedule string
	// ReplaySchedule enqueues KindReplaySignals (default "@every 5m").
	ReplaySchedule string
	// ReplayWindow is how far back the scheduled replay looks for
	// undelivered signals (default 24h); older ones need a manual replay.
	ReplayWindow time.Duration
	// SessionsSchedule enqueues KindDeleteSessions (default "@every 1h").
	SessionsSchedule string
	// Extra tasks run alongside the built-in ones.
	Extra []CronTask
	// Instance names this process in cron_tasks.last_run_by.
	Instance string
	// OnRunFunc, when set, is called after each tick with whether this
	// instance enqueued the task's job. For tests.
	OnRunFunc func(task string, ran bool)
	Logger    *slog.Logger
}

// ReplayArgs are the arguments of a KindReplaySignals job.
type ReplayArgs struct {
	// Window bounds how far back to look, as a Go duration ("24h").
	Window string `json:"window"`
}

// Tasks lists the configured tasks, defaults filled in.
func (c CronConfig) Tasks() []CronTask {
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	window := c.ReplayWindow
	if window <= 0 {
		window = 24 * time.Hour
	}
	tasks := []CronTask{
		{Name: "rescue_jobs", Schedule: def(c.RescueSchedule, "@every 1m"), Job: Params{Kind: KindRescue, MaxAttempts: maintenanceAttempts}},
		{Name: "prune_jobs", Schedule: def(c.PruneSchedule, "@every 1h"), Job: Params{Kind: KindPrune, MaxAttempts: maintenanceAttempts}},
		{Name: "replay_signals", Schedule: def(c.ReplaySchedule, "@every 5m"),
			Job: Params{Kind: KindReplaySignals, Args: ReplayArgs{Window: window.String()}, MaxAttempts: maintenanceAttempts}},
		{Name: "delete_sessions", Schedule: def(c.SessionsSchedule, "@every 1h"), Job: Params{Kind: KindDeleteSessions, MaxAttempts: maintenanceAttempts}},
	}
	return append(tasks, c.Extra...)
}

// Cron runs the schedules on every instance; for each tick exactly one
// instance enqueues the job.
type Cron struct {
	db    *sqlx.DB
	cfg   CronConfig
	log   *slog.Logger
	tasks map[string]cronEntry
	cron  *cron.Cron
	once  sync.Once
}

type cronEntry struct {
	task  CronTask
	sched cron.Schedule
}

// cronLockClass is the first key of the per-task advisory locks.
const cronLockClass = 0x46500003

// NewCron parses the schedules; a bad spec fails here, at boot.
func NewCron(db *sqlx.DB, cfg CronConfig) (*Cron, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Instance == "" {
		cfg.Instance = Config{}.withDefaults().ID
	}
	c := &Cron{db: db, cfg: cfg, log: cfg.Logger.With("component", "cron"), tasks: map[string]cronEntry{},
		cron: cron.New(cron.WithLocation(time.UTC))}
	for _, t := range cfg.Tasks() {
		if t.Schedule == "off" {
			continue
		}
		if _, dup := c.tasks[t.Name]; dup || t.Name == "" {
			return nil, fmt.Errorf("cron: task name %q empty or repeated", t.Name)
		}
		sched, err := cron.ParseStandard(t.Schedule)
		if err != nil {
			return nil, fmt.Errorf("cron task %s: schedule %q: %w", t.Name, t.Schedule, err)
		}
		if t.Job.UniqueKey == "" {
			t.Job.UniqueKey = "cron:" + t.Name
		}
		c.tasks[t.Name] = cronEntry{task: t, sched: sched}
		name := t.Name
		c.cron.Schedule(sched, cron.FuncJob(func() { c.tick(name) }))
	}
	return c, nil
}

// Start runs the schedules until Stop.
func (c *Cron) Start(ctx context.Context) error {
	c.cron.Start()
	c.log.Info("cron started", "tasks", len(c.tasks))
	return nil
}

// Stop stops scheduling and waits (until ctx is done) for a tick in
// progress.
func (c *Cron) Stop(ctx context.Context) error {
	var err error
	c.once.Do(func() {
		select {
		case <-c.cron.Stop().Done():
		case <-ctx.Done():
			err = ctx.Err()
		}
	})
	return err
}

func (c *Cron) tick(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ran, err := c.RunNow(ctx, name)
	if err != nil {
		c.log.Error("cron task", "task", name, "err", err)
	}
	if c.cfg.OnRunFunc != nil {
		c.cfg.OnRunFunc(name, ran)
	}
}

// RunNow runs one tick of a task on this instance: unless another
// instance holds the task's lock or already ran this tick, it enqueues the
// task's job and moves the task's next run forward, in one transaction.
// It reports whether this instance ran the tick.
func (c *Cron) RunNow(ctx context.Context, name string) (ran bool, err error) {
	e, ok := c.tasks[name]
	if !ok {
		return false, fmt.Errorf("cron: no task %q", name)
	}
	now := time.Now()
	var jobID int64
	var inserted bool
	err = c.tx(ctx, func(tx *sqlx.Tx) error {
		// The lock settles instances ticking at the same moment without
		// waiting; the row settles instances ticking moments apart: the
		// first one moves next_run_at past "now" for the others.
		var locked bool
		if err := tx.GetContext(ctx, &locked, `SELECT pg_try_advisory_xact_lock($1, hashtext($2))`, cronLockClass, name); err != nil {
			return err
		}
		if !locked {
			return nil
		}
		// One second of slack absorbs the schedule firing a hair before
		// the stored time on the instance that set it.
		var got string
		err := tx.GetContext(ctx, &got, `
			INSERT INTO public.cron_tasks (name, next_run_at, last_run_at, last_run_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (name) DO UPDATE SET next_run_at = EXCLUDED.next_run_at, last_run_at = EXCLUDED.last_run_at, last_run_by = EXCLUDED.last_run_by
			 WHERE cron_tasks.next_run_at <= $3::timestamptz + interval '1 second'
			RETURNING name`, name, e.sched.Next(now), now, c.cfg.Instance)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		ran = true
		jobID, inserted, err = Enqueue(ctx, tx, e.task.Job)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("cron task %s: %w", name, err)
	}
	switch {
	case !ran:
		c.log.Debug("cron tick taken by another instance", "task", name)
	case inserted:
		c.log.Info("cron enqueued", "task", name, "kind", e.task.Job.Kind, "job_id", jobID)
	default:
		c.log.Info("cron skipped: previous run still queued", "task", name, "kind", e.task.Job.Kind)
	}
	return ran, nil
}

func (c *Cron) tx(ctx context.Context, fn func(*sqlx.Tx) error) error {
	tx, err := c.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
