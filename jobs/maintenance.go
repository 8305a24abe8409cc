package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
)

// Maintenance job kinds. The runner handles KindRescue and KindPrune
// itself; the store registers the others (see store.SignalBus and the
// app's wiring). Cron enqueues all four.
const (
	KindRescue          = "jobs.rescue"
	KindPrune           = "jobs.prune"
	KindReplaySignals   = "signals.replay"
	KindDeleteSessions  = "sessions.delete_expired"
	rescueBatch         = 1000
	pruneBatch          = 10000
	maintenanceAttempts = 3
)

// RescueReport says what a rescue did.
type RescueReport struct {
	Retried   int // made available again
	Discarded int // had no attempt left
}

// Rescue finds jobs running for longer than after — their worker died
// (kill -9, a lost machine) or hangs — and makes them available again now,
// or discards them when that was their last attempt. The error says so in
// the job's history. Workers are notified of the rescued jobs.
func Rescue(ctx context.Context, db *sqlx.DB, after time.Duration) (RescueReport, error) {
	var rep RescueReport
	for {
		var batch RescueReport
		msg := fmt.Sprintf("rescued: still running after %s, its worker presumably died", after)
		err := db.QueryRowxContext(ctx, `
			WITH stuck AS (
				SELECT id FROM public.jobs
				 WHERE state = 'running' AND attempted_at < now() - $1 * interval '1 millisecond'
				 ORDER BY attempted_at LIMIT $3
				 FOR UPDATE SKIP LOCKED),
			moved AS (
				UPDATE public.jobs j SET
				       state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'available' END,
				       finalized_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
				       scheduled_at = CASE WHEN j.attempt >= j.max_attempts THEN j.scheduled_at ELSE now() END,
				       last_error = $2,
				       errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', $2::text))
				  FROM stuck WHERE j.id = stuck.id
				RETURNING j.state)
			SELECT count(*) FILTER (WHERE state = 'available'), count(*) FILTER (WHERE state = 'discarded') FROM moved`,
			after.Milliseconds(), msg, rescueBatch).Scan(&batch.Retried, &batch.Discarded)
		if err != nil {
			return rep, fmt.Errorf("rescue stuck jobs: %w", err)
		}
		rep.Retried += batch.Retried
		rep.Discarded += batch.Discarded
		if batch.Retried > 0 {
			// UPDATE does not fire the insert trigger: say it here.
			if _, err := db.ExecContext(ctx, `SELECT pg_notify($1, '')`, NotifyChannel); err != nil {
				return rep, fmt.Errorf("notify rescued jobs: %w", err)
			}
		}
		if batch.Retried+batch.Discarded < rescueBatch {
			return rep, nil
		}
	}
}

// Prune deletes jobs finished (completed, discarded, cancelled) more than
// olderThan ago, in batches so no statement holds locks for long.
func Prune(ctx context.Context, db *sqlx.DB, olderThan time.Duration) (int64, error) {
	var total int64
	for {
		res, err := db.ExecContext(ctx, `
			DELETE FROM public.jobs WHERE id IN (
				SELECT id FROM public.jobs
				 WHERE finalized_at < now() - $1 * interval '1 millisecond'
				   AND state IN ('completed', 'discarded', 'cancelled')
				 LIMIT $2)`, olderThan.Milliseconds(), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune finished jobs: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

func (r *Runner) rescueHandler(ctx context.Context, _ *Job) error {
	rep, err := Rescue(ctx, r.db, r.cfg.RescueAfter)
	if err != nil {
		return err
	}
	r.log.Info("rescued stuck jobs", "retried", rep.Retried, "discarded", rep.Discarded, "after", r.cfg.RescueAfter)
	return nil
}

func (r *Runner) pruneHandler(ctx context.Context, _ *Job) error {
	n, err := Prune(ctx, r.db, r.cfg.Retention)
	if err != nil {
		return err
	}
	r.log.Info("pruned finished jobs", "deleted", n, "retention", r.cfg.Retention)
	return nil
}

// CleanupHandler adapts a "delete what has expired" function into a job
// handler that logs how many rows it removed, e.g.
// runner.Handle(jobs.KindDeleteSessions, jobs.CleanupHandler("expired sessions", store.DeleteExpiredSessions, log)).
func CleanupHandler(what string, fn func(context.Context) (int64, error), log *slog.Logger) HandlerFunc {
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, _ *Job) error {
		n, err := fn(ctx)
		if err != nil {
			return fmt.Errorf("delete %s: %w", what, err)
		}
		log.Info("deleted "+what, "deleted", n)
		return nil
	}
}
