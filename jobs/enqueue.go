package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Params describes a job to enqueue.
type Params struct {
	Kind string
	// Args is marshalled to JSON; json.RawMessage and []byte pass as they are.
	Args any
	// Tenant is the tenant schema the job works on, or "" for none.
	Tenant string
	// Priority orders available jobs: lower runs first. 0 is the default.
	Priority int16
	// MaxAttempts bounds retries; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// ScheduledAt delays the job until then; zero means now.
	ScheduledAt time.Time
	// UniqueKey, when set, makes the enqueue a no-op while another job
	// with the same key is available or running.
	UniqueKey string
}

func (p Params) encode() (args []byte, maxAttempts int, err error) {
	if p.Kind == "" {
		return nil, 0, errors.New("enqueue: job kind is empty")
	}
	switch a := p.Args.(type) {
	case nil:
		args = []byte("{}")
	case json.RawMessage:
		args = a
	case []byte:
		args = a
	default:
		if args, err = json.Marshal(a); err != nil {
			return nil, 0, fmt.Errorf("enqueue %s: marshal args: %w", p.Kind, err)
		}
	}
	maxAttempts = p.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	return args, maxAttempts, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }

// Enqueue inserts one job through db, which is normally the caller's
// transaction: the job becomes visible to workers, and they are notified,
// only when that transaction commits. inserted is false (and id 0) when
// UniqueKey matched a live job.
func Enqueue(ctx context.Context, db sqlx.ExtContext, p Params) (id int64, inserted bool, err error) {
	args, maxAttempts, err := p.encode()
	if err != nil {
		return 0, false, err
	}
	err = db.QueryRowxContext(ctx, `
		INSERT INTO public.jobs (kind, tenant_schema, args, priority, max_attempts, scheduled_at, unique_key)
		VALUES ($1, $2, $3, $4, $5, coalesce($6, now()), $7)
		ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'running') DO NOTHING
		RETURNING id`,
		p.Kind, nullString(p.Tenant), args, p.Priority, maxAttempts, nullTime(p.ScheduledAt), nullString(p.UniqueKey)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("enqueue %s job: %w", p.Kind, err)
	}
	return id, true, nil
}

// EnqueueMany inserts jobs in one statement (one notification for the
// batch) and returns the ids of those inserted; jobs whose UniqueKey
// matched a live job are skipped.
func EnqueueMany(ctx context.Context, db sqlx.ExtContext, ps []Params) ([]int64, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	var (
		kinds     = make([]string, len(ps))
		tenants   = make([]sql.NullString, len(ps))
		args      = make([]string, len(ps))
		prios     = make([]int64, len(ps))
		attempts  = make([]int64, len(ps))
		scheduled = make([]sql.NullString, len(ps))
		keys      = make([]sql.NullString, len(ps))
	)
	for i, p := range ps {
		a, maxAttempts, err := p.encode()
		if err != nil {
			return nil, err
		}
		kinds[i], tenants[i], args[i] = p.Kind, nullString(p.Tenant), string(a)
		prios[i], attempts[i], keys[i] = int64(p.Priority), int64(maxAttempts), nullString(p.UniqueKey)
		if !p.ScheduledAt.IsZero() {
			scheduled[i] = sql.NullString{String: p.ScheduledAt.UTC().Format(time.RFC3339Nano), Valid: true}
		}
	}
	// unnest turns the parallel arrays into rows: one statement and one
	// round trip however large the batch.
	rows, err := db.QueryContext(ctx, `
		INSERT INTO public.jobs (kind, tenant_schema, args, priority, max_attempts, scheduled_at, unique_key)
		SELECT kind, tenant, args, prio, attempts, coalesce(sched, now()), ukey
		  FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::int[], $6::timestamptz[], $7::text[])
		       AS p(kind, tenant, args, prio, attempts, sched, ukey)
		ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'running') DO NOTHING
		RETURNING id`,
		pq.Array(kinds), pq.Array(tenants), pq.Array(args), pq.Array(prios), pq.Array(attempts),
		pq.Array(scheduled), pq.Array(keys))
	if err != nil {
		return nil, fmt.Errorf("enqueue %d jobs: %w", len(ps), err)
	}
	defer rows.Close()
	ids := make([]int64, 0, len(ps))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("enqueue %d jobs: %w", len(ps), err)
	}
	return ids, nil
}

// Cancel withdraws an available job (one not yet claimed). It reports
// whether the job was cancelled; a running or finished job is left alone.
func Cancel(ctx context.Context, db sqlx.ExecerContext, id int64) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE public.jobs SET state = 'cancelled', finalized_at = now()
		WHERE id = $1 AND state = 'available'`, id)
	if err != nil {
		return false, fmt.Errorf("cancel job %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CancelByKey withdraws the available job holding uniqueKey, if any.
func CancelByKey(ctx context.Context, db sqlx.ExecerContext, uniqueKey string) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE public.jobs SET state = 'cancelled', finalized_at = now()
		WHERE unique_key = $1 AND state = 'available'`, uniqueKey)
	if err != nil {
		return false, fmt.Errorf("cancel job %s: %w", strconv.Quote(uniqueKey), err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
