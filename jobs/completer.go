package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/lib/pq"
)

// result is one finished attempt waiting to be written.
type result struct {
	job   *Job
	state string // completed, available (retry) or discarded
	err   error
	delay time.Duration // before a retry
}

// completer writes finished attempts in batches. It writes as soon as it
// has anything and no write is in progress; results that arrive during a
// write queue up and go together in the next one. An idle queue thus
// finalises a job one round trip after it finishes, and a busy one
// finalises thousands per statement. A worker that dies with results
// still queued loses nothing but time: its jobs are still running in the
// table, and the rescuer retries them.
type completer struct {
	r      *Runner
	in     chan result
	stop   chan struct{}
	closed chan struct{}
	once   sync.Once
}

// maxBatch bounds one finalising statement.
const maxBatch = 5000

func newCompleter(r *Runner) *completer {
	return &completer{
		r: r,
		// The buffer is the backlog allowed before workers wait.
		in:     make(chan result, max(4*r.cfg.MaxWorkers, 1000)),
		stop:   make(chan struct{}),
		closed: make(chan struct{}),
	}
}

// submit queues a result. After close it drops the result: the job is
// still running in the table under an attempt only the rescuer will touch.
func (c *completer) submit(res result) {
	select {
	case c.in <- res:
	case <-c.closed:
	}
}

// close writes what is queued and stops.
func (c *completer) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.closed
}

func (c *completer) run() {
	defer close(c.closed)
	batch := make([]result, 0, 64)
	for {
		if len(batch) == 0 {
			select {
			case res := <-c.in:
				batch = append(batch, res)
			case <-c.stop:
				// Drain what was submitted before the stop, then leave.
				for {
					select {
					case res := <-c.in:
						batch = append(batch, res)
						if len(batch) >= maxBatch {
							c.flush(batch)
							batch = batch[:0]
						}
					default:
						if len(batch) > 0 {
							c.flush(batch)
						}
						return
					}
				}
			}
		}
	more:
		for len(batch) < maxBatch {
			select {
			case res := <-c.in:
				batch = append(batch, res)
			default:
				break more
			}
		}
		c.flush(batch)
		batch = batch[:0]
	}
}

// flush writes a batch, retrying a few times on database errors.
func (c *completer) flush(batch []result) {
	var done []result
	var err error
	for try := 0; try < 5; try++ {
		if done, err = c.write(batch); err == nil {
			break
		}
		c.r.log.Error("finalise jobs", "jobs", len(batch), "err", err)
		time.Sleep(time.Duration(try+1) * 50 * time.Millisecond)
	}
	if err != nil {
		return
	}
	for _, res := range batch {
		if res.state == StateAvailable {
			// A retry may be due already (short backoff); look for it now
			// rather than at the next poll.
			c.r.notifyWake()
			break
		}
	}
	if c.r.cfg.OnEventFunc == nil {
		return
	}
	now := time.Now()
	for _, res := range done {
		ev := Event{Job: res.job, Err: res.err, At: now}
		switch res.state {
		case StateCompleted:
			ev.Kind = EventCompleted
		case StateDiscarded:
			ev.Kind = EventDiscarded
		default:
			ev.Kind = EventRetried
		}
		c.r.cfg.OnEventFunc(ev)
	}
}

// write finalises the batch, each job only while it is still running
// under the attempt this runner claimed: a job that was rescued, released
// or re-claimed meanwhile belongs to someone else now. It returns the
// results that took effect.
func (c *completer) write(batch []result) ([]result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ids := make([]int64, len(batch))
	attempts := make([]int64, len(batch))
	allCompleted := true
	for i, res := range batch {
		ids[i], attempts[i] = res.job.ID, int64(res.job.Attempt)
		allCompleted = allCompleted && res.state == StateCompleted
	}
	var rows *sql.Rows
	var err error
	if allCompleted {
		rows, err = c.r.db.QueryContext(ctx, completeQuery(c.r.commit, c.r.cfg.ID, ids, attempts))
	} else {
		states := make([]string, len(batch))
		delays := make([]int64, len(batch))
		errs := make([]sql.NullString, len(batch))
		for i, res := range batch {
			states[i], delays[i] = res.state, res.delay.Milliseconds()
			if res.err != nil {
				errs[i] = sql.NullString{String: res.err.Error(), Valid: true}
			}
		}
		rows, err = c.r.db.QueryContext(ctx, c.r.finalizeSQL,
			pq.Array(ids), pq.Array(attempts), pq.Array(states), pq.Array(delays), pq.Array(errs), c.r.cfg.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("finalise %d jobs: %w", len(batch), err)
	}
	defer rows.Close()
	if c.r.cfg.OnEventFunc == nil {
		for rows.Next() {
		}
		return nil, rows.Err()
	}
	written := make(map[int64]bool, len(batch))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		written[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	done := make([]result, 0, len(written))
	for _, res := range batch {
		if written[res.job.ID] {
			done = append(done, res)
		}
	}
	return done, nil
}

// completeQuery marks jobs completed, each only while it is still running
// under the attempt this runner claimed: the common case, written out as
// literals (see literal.go).
func completeQuery(commit, worker string, ids, attempts []int64) string {
	b := make([]byte, 0, 256+24*len(ids))
	b = append(b, `
	UPDATE public.jobs j SET state = 'completed', finalized_at = now()
	  FROM unnest(`...)
	b = appendIntArray(b, ids)
	b = append(b, "::bigint[], "...)
	b = appendIntArray(b, attempts)
	b = append(b, "::int[]) AS c(id, attempt)\n\t WHERE "+commit+
		" AND j.id = c.id AND j.attempt = c.attempt AND j.state = 'running' AND j.attempted_by = "+pq.QuoteLiteral(worker)+
		"\n\tRETURNING j.id"...)
	return string(b)
}

// finalizeSQL writes any mix of outcomes: completed, discarded with the
// error kept, or available again after a backoff.
func finalizeSQL(commit string) string {
	return `
	UPDATE public.jobs j SET
	       state = c.state,
	       finalized_at = CASE WHEN c.state = 'available' THEN NULL ELSE now() END,
	       scheduled_at = CASE WHEN c.state = 'available' THEN now() + c.delay_ms * interval '1 millisecond' ELSE j.scheduled_at END,
	       last_error = coalesce(c.err, j.last_error),
	       errors = CASE WHEN c.err IS NULL THEN j.errors
	                     ELSE j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'at', now(), 'error', c.err)) END
	  FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::text[]) AS c(id, attempt, state, delay_ms, err)
	 WHERE ` + commit + ` AND j.id = c.id AND j.attempt = c.attempt AND j.state = 'running' AND j.attempted_by = $6
	RETURNING j.id`
}

func stack() string { return string(debug.Stack()) }
