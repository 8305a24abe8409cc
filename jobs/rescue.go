package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// RescueReport says what a rescue did.
type RescueReport struct {
	Retried   int // made available again
	Discarded int // had no attempt left
}

const (
	rescueBatch = 1000
	// rescueLockClass and rescueLockKey are the advisory lock that lets one
	// rescue run at a time across every runner of a database.
	rescueLockClass = 0x46500004
	rescueLockKey   = 1
)

// Rescue makes abandoned jobs available again now, or discards them when
// that was their last attempt, noting why in the job's history: jobs
// whose heartbeat is older than the timeout their runner claimed them
// with (the worker died: kill -9, a lost machine; or its handler hung
// past the runner's RescueAfter, when the runner stops renewing it), and
// jobs claimed without a heartbeat timeout (by a runner of the previous
// release) running for longer than after. Workers are notified of the
// jobs made available. A rescue in progress elsewhere is waited for.
func Rescue(ctx context.Context, db *sqlx.DB, after time.Duration) (RescueReport, error) {
	rep, _, err := rescue(ctx, db, after, true)
	return rep, err
}

// rescue runs a rescue in one transaction under the rescue lock. Without
// wait it gives up at once (ran false) when another rescue holds the lock:
// that one does the work.
func rescue(ctx context.Context, db *sqlx.DB, after time.Duration, wait bool) (rep RescueReport, ran bool, err error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return rep, false, fmt.Errorf("rescue stuck jobs: %w", err)
	}
	defer tx.Rollback()
	if wait {
		_, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, rescueLockClass, rescueLockKey)
		ran = err == nil
	} else {
		err = tx.GetContext(ctx, &ran, `SELECT pg_try_advisory_xact_lock($1, $2)`, rescueLockClass, rescueLockKey)
	}
	if err != nil || !ran {
		return rep, false, err
	}
	for {
		var batch RescueReport
		err := tx.QueryRowxContext(ctx, rescueSQL, after.Milliseconds(), rescueBatch, after.String()).
			Scan(&batch.Retried, &batch.Discarded)
		if err != nil {
			return rep, false, fmt.Errorf("rescue stuck jobs: %w", err)
		}
		rep.Retried += batch.Retried
		rep.Discarded += batch.Discarded
		if batch.Retried+batch.Discarded < rescueBatch {
			break
		}
	}
	if rep.Retried > 0 {
		// An UPDATE does not fire the insert trigger: notify here, at the
		// commit that makes the jobs available.
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, '')`, NotifyChannel); err != nil {
			return rep, false, fmt.Errorf("notify rescued jobs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return RescueReport{}, false, fmt.Errorf("rescue stuck jobs: %w", err)
	}
	return rep, true, nil
}

// rescueSQL moves one batch of abandoned jobs. It walks every running job
// through jobs_running, in attempt order: their number is bounded by the
// workers, which keeps this cheap to run every few seconds. Every
// decision rests on what the claiming runner wrote on the job, never on
// this rescuer's configuration, except for jobs claimed without a
// heartbeat timeout: $1 is their limit in milliseconds, $3 the same for
// the message.
const rescueSQL = `
	WITH stuck AS (
		SELECT id, CASE WHEN heartbeat_timeout IS NULL
		                THEN format('rescued: still running after %s, its worker presumably died', $3::text)
		                ELSE format('rescued: no heartbeat from %s for %s: it died, or its handler hangs past its timeout', attempted_by, heartbeat_timeout) END AS msg
		  FROM public.jobs
		 WHERE state = 'running'
		   AND (heartbeat_at + heartbeat_timeout < now()
		        OR heartbeat_timeout IS NULL AND attempted_at < now() - $1 * interval '1 millisecond')
		 ORDER BY attempted_at LIMIT $2
		 FOR UPDATE SKIP LOCKED),
	moved AS (
		UPDATE public.jobs j SET
		       state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'available' END,
		       finalized_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
		       scheduled_at = CASE WHEN j.attempt >= j.max_attempts THEN j.scheduled_at ELSE now() END,
		       last_error = stuck.msg,
		       errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', stuck.msg))
		  FROM stuck WHERE j.id = stuck.id
		RETURNING j.state)
	SELECT count(*) FILTER (WHERE state = 'available'), count(*) FILTER (WHERE state = 'discarded') FROM moved`

// rescuer looks for abandoned jobs every RescueInterval until ctx is
// done. Every runner runs one, so jobs are rescued while any worker
// process lives (cron runs only in serve processes, and its job would
// need a worker anyway); the advisory lock makes the others skip a tick
// that one is already doing. The lock is transaction-scoped, so this also
// works behind a transaction-pooling PgBouncer.
func (r *Runner) rescuer(ctx context.Context) {
	every(ctx, r.cfg.RescueInterval, func() {
		rep, ran, err := rescue(ctx, r.db, r.cfg.RescueAfter, false)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Error("rescue jobs", "err", err)
		case ran && rep.Retried+rep.Discarded > 0:
			r.log.Info("rescued abandoned jobs", "retried", rep.Retried, "discarded", rep.Discarded)
		}
	})
}

func (r *Runner) rescueHandler(ctx context.Context, _ *Job) error {
	rep, err := Rescue(ctx, r.db, r.cfg.RescueAfter)
	if err != nil {
		return err
	}
	r.log.Info("rescued stuck jobs", "retried", rep.Retried, "discarded", rep.Discarded, "after", r.cfg.RescueAfter)
	return nil
}
