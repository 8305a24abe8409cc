package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
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
	started chan<- start
}

func (w probeWorker) Work(_ context.Context, j *river.Job[probeArgs]) error {
	w.started <- start{j.ID, time.Now()}
	return nil
}

// riverFetch is how often River's producer may and must look for jobs.
type riverFetch struct{ cooldown, poll time.Duration }

var (
	// riverDefaults are River's own: FetchCooldown 100ms (which also
	// limits how often an insert notifies), FetchPollInterval 1s.
	riverDefaults = riverFetch{}
	// riverTuned is River at its most eager: both at their 1ms minimum.
	// It then polls a thousand times a second, which its CPU per job
	// shows.
	riverTuned = riverFetch{cooldown: time.Millisecond, poll: time.Millisecond}
	// riverBench is what River's own `river bench` uses for throughput.
	riverBench = riverFetch{cooldown: 2 * time.Millisecond, poll: 20 * time.Millisecond}
)

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

// riverCommitSetting reports synchronous_commit as River's driver sees it.
func riverCommitSetting(ctx context.Context, dsn string) (string, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	var v string
	err = pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v)
	return v, err
}

// newRiver opens a pool of conns connections on the mode's DSN (as many
// as ours gets: pgxpool's default is 4 on this machine) and a River
// client on it with the given workers and fetch tuning.
func newRiver(ctx context.Context, m mode, conns int32, ws *river.Workers, maxWorkers int, f riverFetch, log *slog.Logger) (*river.Client[pgx.Tx], *pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(m.dsn)
	if err != nil {
		return nil, nil, err
	}
	pc.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, nil, err
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		FetchCooldown:     f.cooldown,
		FetchPollInterval: f.poll,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		Workers:           ws,
		Logger:            log,
	})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return client, pool, nil
}

// riverThroughput mirrors oursThroughput with River, configured as River's
// own `river bench` configures it (its tuned fetch cooldown and poll).
func riverThroughput(ctx context.Context, m mode, n, workers int, log *slog.Logger) (float64, error) {
	ws := river.NewWorkers()
	river.AddWorker(ws, &noopWorker{})
	client, pool, err := newRiver(ctx, m, throughputConns, ws, workers, riverBench, log)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `TRUNCATE river_job`); err != nil {
		return 0, err
	}
	pool.Exec(ctx, `VACUUM ANALYZE river_job`)
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

// riverLatency mirrors oursLatency with River and the given fetch tuning.
func riverLatency(ctx context.Context, m mode, n int, every time.Duration, f riverFetch, log *slog.Logger) ([]time.Duration, error) {
	started := make(chan start, n)
	ws := river.NewWorkers()
	river.AddWorker(ws, &probeWorker{started: started})
	client, pool, err := newRiver(ctx, m, latencyConns, ws, 100, f, log)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `TRUNCATE river_job`); err != nil {
		return nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, err
	}
	defer client.Stop(ctx)
	time.Sleep(200 * time.Millisecond) // let LISTEN connect: a bench, not a test
	return probe(n, every, started, func() (int64, error) {
		res, err := client.Insert(ctx, probeArgs{}, nil)
		if err != nil {
			return 0, err
		}
		return res.Job.ID, nil
	})
}
