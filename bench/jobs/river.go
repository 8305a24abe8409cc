package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

type noopArgs struct{}

func (noopArgs) Kind() string { return "noop" }

type noopWorker struct{ river.WorkerDefaults[noopArgs] }

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

type probeArgs struct{}

func (probeArgs) Kind() string { return "probe" }

type probeWorker struct {
	river.WorkerDefaults[probeArgs]
	started chan<- time.Time
}

func (w probeWorker) Work(context.Context, *river.Job[probeArgs]) error {
	w.started <- time.Now()
	return nil
}

func riverMigrate(ctx context.Context, dsn string) error {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// riverThroughput mirrors oursThroughput with River, configured as River's
// own `river bench` configures it (its tuned fetch cooldown and poll).
func riverThroughput(ctx context.Context, dsn string, n, workers int, log *slog.Logger) (float64, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `TRUNCATE river_job`); err != nil {
		return 0, err
	}
	pool.Exec(ctx, `VACUUM ANALYZE river_job`)
	ws := river.NewWorkers()
	river.AddWorker(ws, &noopWorker{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		FetchCooldown:     2 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:           ws,
		Logger:            log,
	})
	if err != nil {
		return 0, err
	}
	events, cancel := client.SubscribeConfig(&river.SubscribeConfig{ChanSize: n, Kinds: []river.EventKind{river.EventKindJobCompleted}})
	defer cancel()
	var done atomic.Int64
	finished := make(chan time.Time, 1)
	go func() {
		for range events {
			if done.Add(1) == int64(n) {
				finished <- time.Now()
				return
			}
		}
	}()
	if err := client.Start(ctx); err != nil {
		return 0, err
	}
	defer client.Stop(ctx)
	start := time.Now()
	batch := make([]river.InsertManyParams, insertBatch)
	for i := range batch {
		batch[i] = river.InsertManyParams{Args: noopArgs{}}
	}
	for left := n; left > 0; left -= insertBatch {
		if _, err := client.InsertMany(ctx, batch[:min(left, insertBatch)]); err != nil {
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

// riverLatency mirrors oursLatency with River's defaults.
func riverLatency(ctx context.Context, dsn string, n int, every time.Duration, log *slog.Logger) ([]time.Duration, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `TRUNCATE river_job`); err != nil {
		return nil, err
	}
	started := make(chan time.Time, n)
	ws := river.NewWorkers()
	river.AddWorker(ws, &probeWorker{started: started})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 100}},
		Workers: ws,
		Logger:  log,
	})
	if err != nil {
		return nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, err
	}
	defer client.Stop(ctx)
	time.Sleep(200 * time.Millisecond)
	return probe(n, every, started, func() error {
		_, err := client.Insert(ctx, probeArgs{}, nil)
		return err
	})
}
