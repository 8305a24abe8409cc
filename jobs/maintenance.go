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
	pruneBatch          = 10000
	maintenanceAttempts = 3
)

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
