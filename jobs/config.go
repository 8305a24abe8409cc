package jobs

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"time"
)

// Config tunes a Runner. The zero value of every field means its default.
type Config struct {
	// DSN is the connection string the LISTEN connection dials (the pool
	// cannot lend one: a listening connection is held for good). Empty
	// means no LISTEN: workers find new jobs by polling only.
	DSN string
	// ID names this runner instance in jobs.attempted_by; default
	// host:pid:random, unique per Runner.
	ID string
	// MaxWorkers bounds the jobs this runner executes at once (default 10).
	MaxWorkers int
	// Tenants, when set, limits this runner to jobs of these tenant
	// schemas: a dedicated worker for a noisy tenant, or a test that must
	// not take other tests' jobs. Empty means every job.
	Tenants []string
	// PollInterval is how often workers look for jobs without being
	// notified: scheduled jobs and retries coming due, and a missed
	// notification (default 500ms).
	PollInterval time.Duration
	// JobTimeout cancels a handler's context after this long (default 5m).
	JobTimeout time.Duration
	// HeartbeatTimeout is how long a job this runner claimed may go
	// without a heartbeat before any runner's rescuer takes its worker for
	// dead (default 15s). It is written on the job at its claim, so every
	// rescuer honours the claiming runner's promise, whatever its own
	// configuration says.
	HeartbeatTimeout time.Duration
	// HeartbeatInterval is how often the runner renews the heartbeats of
	// its in-flight jobs, all in one statement (default 5s, or a third of
	// HeartbeatTimeout when that is shorter, so that a missed beat still
	// does not get a live job rescued).
	HeartbeatInterval time.Duration
	// RescueInterval is how often this runner looks for abandoned jobs
	// (default 5s; negative: never, leaving it to other runners and to
	// cron's KindRescue job). Every runner looks, so rescue works while
	// any worker process lives; a transaction-scoped advisory lock lets
	// one of them at a time do it.
	RescueInterval time.Duration
	// RescueAfter is how long a job of this runner may stay running before
	// the runner stops renewing its heartbeat, so that a rescue makes it
	// available again (or discards it after its last attempt)
	// HeartbeatTimeout later: the limit for a handler that hangs past
	// JobTimeout, ignoring its cancelled context. It must exceed
	// JobTimeout (default JobTimeout + 1m). A rescuer applies its own
	// RescueAfter only to jobs claimed without heartbeats, by a runner of
	// the previous release.
	RescueAfter time.Duration
	// SyncCommit makes the runner's own writes (claims, heartbeats,
	// results) wait for the WAL flush like any other commit. By default
	// they commit asynchronously (see asyncCommit): a job is delivered at
	// least once anyway, so a claim or result lost in a server crash costs
	// only a retry, and not waiting for the disk saves a flush per batch.
	SyncCommit bool
	// Retention is how long finished jobs are kept before the prune job
	// deletes them (default 7 days).
	Retention time.Duration
	// BackoffFunc returns how long to wait before retrying after the given
	// failed attempt (1-based). Default: exponential from 1s, doubling,
	// capped at 1h, with ±20% jitter so a burst of failures spreads out.
	BackoffFunc func(attempt int) time.Duration
	// OnEventFunc, when set, is called for every job outcome once it is
	// committed (completed, retried, discarded) and when a job starts.
	// Tests and benchmarks wait on it; it must not block for long.
	OnEventFunc func(Event)
	// Logger receives the runner's logs (default slog.Default()).
	Logger *slog.Logger
}

// EventKind says what happened to a job.
type EventKind string

// Event kinds passed to Config.OnEventFunc.
const (
	EventStarted   EventKind = "started"   // the handler is about to run
	EventCompleted EventKind = "completed" // committed as completed
	EventRetried   EventKind = "retried"   // committed as available again, after a backoff
	EventDiscarded EventKind = "discarded" // committed as discarded, error kept
)

// Event reports one job's progress.
type Event struct {
	Kind EventKind
	Job  *Job
	// Err is the handler's error (nil for started and completed).
	Err error
	// At is when the event happened.
	At time.Time
}

func (c Config) withDefaults() Config {
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = fmt.Sprintf("%s:%d:%04x", host, os.Getpid(), rand.IntN(0x10000))
	}
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = 10
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 5 * time.Minute
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 15 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 5 * time.Second
	}
	c.HeartbeatInterval = min(c.HeartbeatInterval, c.HeartbeatTimeout/3)
	if c.RescueInterval == 0 {
		c.RescueInterval = 5 * time.Second
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.BackoffFunc == nil {
		c.BackoffFunc = DefaultBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// DefaultBackoff waits 1s after the first failure and doubles each time up
// to an hour, with ±20% jitter.
func DefaultBackoff(attempt int) time.Duration {
	return ExponentialBackoff(time.Second, time.Hour)(attempt)
}

// ExponentialBackoff returns a BackoffFunc waiting base·2^(attempt-1),
// capped at max, with ±20% jitter.
func ExponentialBackoff(base, max time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		if attempt < 1 {
			attempt = 1
		}
		d := float64(base) * math.Pow(2, float64(attempt-1))
		if d > float64(max) {
			d = float64(max)
		}
		return time.Duration(d * (0.8 + 0.4*rand.Float64()))
	}
}
