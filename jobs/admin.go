package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Row is a job as the admin page lists it.
type Row struct {
	ID          int64           `db:"id"`
	Kind        string          `db:"kind"`
	Tenant      string          `db:"tenant_schema"`
	Args        json.RawMessage `db:"args"`
	State       string          `db:"state"`
	Priority    int16           `db:"priority"`
	Attempt     int             `db:"attempt"`
	MaxAttempts int             `db:"max_attempts"`
	ScheduledAt time.Time       `db:"scheduled_at"`
	AttemptedAt sql.NullTime    `db:"attempted_at"`
	AttemptedBy string          `db:"attempted_by"`
	FinalizedAt sql.NullTime    `db:"finalized_at"`
	LastError   string          `db:"last_error"`
	CreatedAt   time.Time       `db:"created_at"`
}

// Filter selects jobs for List. Empty fields do not filter.
type Filter struct {
	// Tenant restricts to one tenant schema. Admin pages must set it: an
	// organization's admins see their own jobs only.
	Tenant string
	State  string
	Kind   string
	// BeforeID pages backwards: only jobs with a smaller id.
	BeforeID int64
	Limit    int // default 50, at most 500
}

// List returns jobs newest first. The next page is Filter{BeforeID: the
// last row's ID}.
func List(ctx context.Context, db sqlx.QueryerContext, f Filter) ([]Row, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Tenant != "" {
		add("tenant_schema = $%d", f.Tenant)
	}
	if f.State != "" {
		add("state = $%d", f.State)
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	q := `SELECT id, kind, coalesce(tenant_schema, '') AS tenant_schema, args, state, priority, attempt, max_attempts,
	             scheduled_at, attempted_at, coalesce(attempted_by, '') AS attempted_by, finalized_at,
	             coalesce(last_error, '') AS last_error, created_at
	        FROM public.jobs`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	var rows []Row
	if err := sqlx.SelectContext(ctx, db, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return rows, nil
}

// Stats is the queue at a glance.
type Stats struct {
	Available int64 // due now: the queue depth
	Scheduled int64 // available but not yet due (scheduled or waiting out a backoff)
	Running   int64
	Completed int64
	Discarded int64
	Cancelled int64
}

// Count returns the queue's figures, for one tenant schema or (tenant "")
// for every job.
func Count(ctx context.Context, db sqlx.QueryerContext, tenant string) (Stats, error) {
	var s Stats
	err := db.QueryRowxContext(ctx, `
		SELECT count(*) FILTER (WHERE state = 'available' AND scheduled_at <= now()),
		       count(*) FILTER (WHERE state = 'available' AND scheduled_at > now()),
		       count(*) FILTER (WHERE state = 'running'),
		       count(*) FILTER (WHERE state = 'completed'),
		       count(*) FILTER (WHERE state = 'discarded'),
		       count(*) FILTER (WHERE state = 'cancelled')
		  FROM public.jobs WHERE $1 = '' OR tenant_schema = $1`, tenant).
		Scan(&s.Available, &s.Scheduled, &s.Running, &s.Completed, &s.Discarded, &s.Cancelled)
	if err != nil {
		return s, fmt.Errorf("count jobs: %w", err)
	}
	return s, nil
}
