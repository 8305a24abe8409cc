// Package jobs is FleetPrompt's background job runner: a PostgreSQL table
// (public.jobs) that any number of processes work on together.
//
// Jobs are enqueued inside the caller's transaction, so they exist exactly
// when the change that asked for them committed. Workers claim batches in
// one UPDATE … FOR UPDATE SKIP LOCKED statement, are woken at once by
// LISTEN/NOTIFY on channel "fp_jobs" (with polling as a fallback), and
// finalise finished jobs in batches, only while the job is still running
// under the attempt they claimed. Failed jobs are retried with exponential
// backoff and jitter and discarded, error kept, after their last attempt.
// While a handler runs, its runner renews the job's heartbeat every few
// seconds; a job whose heartbeat stops (its worker died) is rescued by
// whichever runner looks next, within seconds. Delivery is at least once:
// handlers must tolerate a retry.
package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Job states, as stored in jobs.state.
const (
	StateAvailable = "available" // waiting for a worker (possibly scheduled for later)
	StateRunning   = "running"   // claimed by a worker
	StateCompleted = "completed" // the handler returned nil
	StateDiscarded = "discarded" // failed for the last time (or permanently); last_error says why
	StateCancelled = "cancelled" // withdrawn before it ran
)

// NotifyChannel is the LISTEN/NOTIFY channel an insert of available work
// notifies (from a trigger, inside the inserting transaction). The payload
// is empty.
const NotifyChannel = "fp_jobs"

// DefaultMaxAttempts is used when Params.MaxAttempts is zero.
const DefaultMaxAttempts = 20

// Job is one claimed job, as a handler sees it.
type Job struct {
	ID   int64
	Kind string
	// Tenant is the tenant schema the job works on ("" for platform jobs).
	Tenant      string
	Args        json.RawMessage
	Attempt     int // 1 on the first run
	MaxAttempts int
	Priority    int16
	ScheduledAt time.Time
	CreatedAt   time.Time
}

// DecodeArgs unmarshals the job's arguments into v.
func (j *Job) DecodeArgs(v any) error {
	if err := json.Unmarshal(j.Args, v); err != nil {
		return fmt.Errorf("decode args of %s job %d: %w", j.Kind, j.ID, err)
	}
	return nil
}

// LastAttempt reports whether a failure now discards the job.
func (j *Job) LastAttempt() bool { return j.Attempt >= j.MaxAttempts }

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so the job is discarded at once instead of retried:
// for malformed arguments, a row that no longer exists, and the like.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was wrapped with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
