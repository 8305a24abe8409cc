package store

import (
	"context"
	"fmt"

	"fleetprompt/jobs"
)

// The jobs table is public, shared by every organization; each job names
// the tenant schema it works for. Every query here takes the tenant and
// filters on it: an organization's admins see their own jobs only.

// JobDepth is how many of a tenant's jobs of one kind are in one state.
// Available jobs are split into due ("available") and not yet due
// ("scheduled": delayed, or waiting out a retry backoff).
type JobDepth struct {
	Kind  string `db:"kind"`
	State string `db:"state"`
	N     int64  `db:"n"`
}

// JobDepths returns the tenant's job counts by kind and state.
func (s *Store) JobDepths(ctx context.Context, t Tenant) ([]JobDepth, error) {
	var out []JobDepth
	err := s.DB.SelectContext(ctx, &out, `
		SELECT kind, CASE WHEN state = 'available' AND scheduled_at > now() THEN 'scheduled' ELSE state END AS state, count(*) AS n
		  FROM public.jobs WHERE tenant_schema = $1
		 GROUP BY 1, 2 ORDER BY 1, 2`, t.Schema())
	if err != nil {
		return nil, fmt.Errorf("job depths: %w", err)
	}
	return out, nil
}

// JobFailures pages through the tenant's jobs that have failed at least
// once (retrying, or discarded for good), newest first. before is the
// cursor: a job id, 0 for the first page. next is 0 on the last page.
func (s *Store) JobFailures(ctx context.Context, t Tenant, before int64, limit int) (rows []jobs.Row, next int64, err error) {
	limit = clampLimit(limit, 200)
	err = s.DB.SelectContext(ctx, &rows, `
		SELECT id, kind, coalesce(tenant_schema, '') AS tenant_schema, args, state, priority, attempt, max_attempts,
		       scheduled_at, attempted_at, coalesce(attempted_by, '') AS attempted_by, finalized_at,
		       coalesce(last_error, '') AS last_error, created_at
		  FROM public.jobs
		 WHERE tenant_schema = $1 AND last_error IS NOT NULL AND ($2 = 0 OR id < $2)
		 ORDER BY id DESC LIMIT $3`, t.Schema(), before, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("job failures: %w", err)
	}
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	return rows, next, nil
}
