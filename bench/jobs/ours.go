package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

const insertBatch = 5000

// Both runners' pools get as many connections.
const (
	throughputConns = 20
	latencyConns    = 10
)

// oursThroughput inserts n no-op jobs in batches while the runner works
// them, and returns jobs/s from the first insert to the last completion.
func oursThroughput(ctx context.Context, m mode, n, workers int, log *slog.Logger) (float64, error) {
	db, err := store.Open(ctx, m.dsn, throughputConns)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `TRUNCATE jobs`); err != nil {
		return 0, err
	}
	db.ExecContext(ctx, `VACUUM ANALYZE jobs`)
	var done atomic.Int64
	finished := make(chan time.Time, 1)
	r := jobs.New(db, jobs.Config{DSN: m.dsn, MaxWorkers: workers, SyncCommit: m.syncCommit, Logger: log, OnEventFunc: func(ev jobs.Event) {
		if ev.Kind == jobs.EventCompleted && done.Add(1) == int64(n) {
			finished <- time.Now()
		}
	}})
	r.Handle("noop", func(context.Context, *jobs.Job) error { return nil })
	if err := r.Start(ctx); err != nil {
		return 0, err
	}
	defer r.Stop(ctx)
	start := time.Now()
	batch := make([]jobs.Params, insertBatch)
	for i := range batch {
		batch[i] = jobs.Params{Kind: "noop", Args: []byte(`{}`)}
	}
	for left := n; left > 0; left -= insertBatch {
		if _, err := jobs.EnqueueMany(ctx, db, batch[:min(left, insertBatch)]); err != nil {
			return 0, err
		}
	}
	select {
	case end := <-finished:
		return float64(n) / end.Sub(start).Seconds(), nil
	case <-time.After(5 * time.Minute):
		return 0, fmt.Errorf("only %d of %d jobs completed", done.Load(), n)
	}
}

// oursLatency enqueues one job every `every` and measures from the
// insert's commit to the handler's start, with the runner's defaults
// (but the mode's durability).
func oursLatency(ctx context.Context, m mode, n int, every time.Duration, log *slog.Logger) ([]time.Duration, error) {
	db, err := store.Open(ctx, m.dsn, latencyConns)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `TRUNCATE jobs`); err != nil {
		return nil, err
	}
	started := make(chan start, n)
	r := jobs.New(db, jobs.Config{DSN: m.dsn, SyncCommit: m.syncCommit, Logger: log})
	r.Handle("probe", func(_ context.Context, j *jobs.Job) error { started <- start{j.ID, time.Now()}; return nil })
	if err := r.Start(ctx); err != nil {
		return nil, err
	}
	defer r.Stop(ctx)
	time.Sleep(200 * time.Millisecond) // let LISTEN connect: a bench, not a test
	return probe(n, every, started, func() (int64, error) {
		id, _, err := jobs.Enqueue(ctx, db, jobs.Params{Kind: "probe"})
		return id, err
	})
}

// start is a probe job's handler starting.
type start struct {
	id int64
	at time.Time
}

// probe inserts n jobs at a steady pace, whatever the runner's latency
// (a slow pickup must not slow the pace, or every sample would wait for
// the one before), then pairs each insert's commit, as the inserting
// client saw it, with its job's start.
func probe(n int, every time.Duration, started <-chan start, insert func() (int64, error)) ([]time.Duration, error) {
	committed := make(map[int64]time.Time, n)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for range n {
		<-tick.C
		id, err := insert()
		if err != nil {
			return nil, err
		}
		committed[id] = time.Now()
	}
	out := make([]time.Duration, 0, n)
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case s := <-started:
			// A handler may start before its inserter has read the
			// commit's reply: that is no latency at all.
			out = append(out, max(s.at.Sub(committed[s.id]), 0))
		case <-timeout:
			return nil, fmt.Errorf("%d of %d probe jobs never started", n-len(out), n)
		}
	}
	return out, nil
}
