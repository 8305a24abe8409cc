// Command jobs benchmarks FleetPrompt's job runner against River on the
// same PostgreSQL in the same run, at equal durability, in two modes:
//
//   - durable: every commit of both runners waits for the WAL flush
//     (synchronous_commit on; our runner with Config.SyncCommit);
//   - async: every statement of both runners commits asynchronously
//     (synchronous_commit=off on every connection of both pools).
//
// In each mode it measures no-op throughput (insert + claim + complete)
// and pickup latency (insert committed → handler starts) on a lightly
// loaded queue, River's latency both with its defaults and tuned for
// latency. The last line it prints is
//
//	jobs: durable ours=N/s river=M/s ratio=R · async ours=N/s river=M/s ratio=R
//
// It uses DATABASE_URL when set (the bench creates and drops a database
// "fp_bench_jobs" on that server), and otherwise starts a private
// PostgreSQL in a temporary directory, with the same durable settings the
// app's embedded server uses.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"fleetprompt/bench/benchdb"
	"fleetprompt/store"
)

// mode is one durability setting, applied to both runners alike.
type mode struct {
	name string
	// dsn is the database's, with synchronous_commit=off as a connection
	// parameter in async mode: every statement of either runner (enqueues
	// included) then commits without waiting for the disk.
	dsn string
	// syncCommit is our runner's Config.SyncCommit: its claims, heartbeats
	// and results otherwise commit asynchronously even on a durable
	// connection, which River's never do.
	syncCommit bool
}

type options struct {
	jobs, rounds, workers       int
	latencyN, latencyRounds     int
	every                       time.Duration
	skipLatency, skipThroughput bool
	only                        string
}

func main() {
	var o options
	flag.IntVar(&o.jobs, "n", 100_000, "jobs per throughput round")
	flag.IntVar(&o.rounds, "rounds", 3, "throughput rounds per runner and mode")
	flag.IntVar(&o.workers, "workers", 1000, "max workers for the throughput rounds (both runners)")
	flag.IntVar(&o.latencyN, "latency-jobs", 1000, "latency samples per runner and mode, split across the latency rounds")
	flag.IntVar(&o.latencyRounds, "latency-rounds", 2, "latency rounds per runner and mode")
	flag.DurationVar(&o.every, "every", 20*time.Millisecond, "one latency probe job per this interval")
	flag.BoolVar(&o.skipLatency, "skip-latency", false, "skip the latency runs")
	flag.BoolVar(&o.skipThroughput, "skip-throughput", false, "skip the throughput runs")
	flag.StringVar(&o.only, "only", "", "run only this runner (ours or river)")
	modeFlag := flag.String("mode", "both", "durable, async or both")
	cpuProf := flag.String("cpuprofile", "", "write a CPU profile of the throughput rounds to this file")
	flag.Parse()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	dsn, stop, err := database(ctx, log)
	if err != nil {
		fail(err)
	}
	defer stop()
	// An interrupted run still drops its database and stops its server.
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-interrupted
		stop()
		os.Exit(130)
	}()
	fmt.Printf("database: %s\n", redact(dsn))
	modes, err := pickModes(*modeFlag, dsn)
	if err != nil {
		fail(err)
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
	}
	var last []string
	for _, m := range modes {
		if err := checkCommitSetting(ctx, m); err != nil {
			fail(err)
		}
		fmt.Printf("\n== %s ==\n", m.name)
		ours, river := 0.0, 0.0
		if !o.skipThroughput {
			if ours, river, err = throughputRounds(ctx, m, o, log); err != nil {
				fail(err)
			}
		}
		if !o.skipLatency {
			if err := latencyRounds(ctx, m, o, log); err != nil {
				fail(err)
			}
		}
		last = append(last, fmt.Sprintf("%s ours=%.0f/s river=%.0f/s ratio=%.2f", m.name, ours, river, ours/river))
	}
	if *cpuProf != "" {
		pprof.StopCPUProfile()
	}
	fmt.Printf("\njobs: %s\n", strings.Join(last, " · "))
}

func pickModes(which, dsn string) ([]mode, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	durable := mode{name: "durable", dsn: dsn, syncCommit: true}
	async := mode{name: "async", dsn: u.String()}
	switch which {
	case "both":
		return []mode{durable, async}, nil
	case "durable":
		return []mode{durable}, nil
	case "async":
		return []mode{async}, nil
	}
	return nil, fmt.Errorf("-mode %q: want durable, async or both", which)
}

// throughputRounds alternates the runners' rounds, so neither always runs
// on a warmer server, prints each round and the spread, and returns each
// runner's median.
func throughputRounds(ctx context.Context, m mode, o options, log *slog.Logger) (ours, river float64, err error) {
	runners := []struct {
		name  string
		run   func(context.Context, mode, int, int, *slog.Logger) (float64, error)
		rates []float64
	}{{name: "ours", run: oursThroughput}, {name: "river", run: riverThroughput}}
	for r := 1; r <= o.rounds; r++ {
		for i := range runners {
			rn := &runners[i]
			if o.only != "" && o.only != rn.name {
				continue
			}
			c0 := sampleCPU()
			v, err := rn.run(ctx, m, o.jobs, o.workers, log)
			if err != nil {
				return 0, 0, fmt.Errorf("%s: %w", rn.name, err)
			}
			fmt.Printf("throughput round %d: %-5s %8.0f jobs/s  %s\n", r, rn.name, v, cpuPerJob(c0, sampleCPU(), o.jobs))
			rn.rates = append(rn.rates, v)
		}
	}
	fmt.Printf("throughput %s, %d rounds of %d jobs: ours %s · river %s\n", m.name, o.rounds, o.jobs, spread(runners[0].rates), spread(runners[1].rates))
	return median(runners[0].rates), median(runners[1].rates), nil
}

// latencyRounds runs the probe for ours, River with its defaults and
// River tuned for latency, rounds alternating, and prints each round and
// the percentiles over all of a runner's samples.
func latencyRounds(ctx context.Context, m mode, o options, log *slog.Logger) error {
	type runner struct {
		name string
		run  func(n int) ([]time.Duration, error)
	}
	var runners []runner
	if o.only != "river" {
		runners = append(runners, runner{"ours", func(n int) ([]time.Duration, error) { return oursLatency(ctx, m, n, o.every, log) }})
	}
	if o.only != "ours" {
		runners = append(runners,
			runner{"river", func(n int) ([]time.Duration, error) { return riverLatency(ctx, m, n, o.every, riverDefaults, log) }},
			runner{"river-tuned", func(n int) ([]time.Duration, error) { return riverLatency(ctx, m, n, o.every, riverTuned, log) }})
	}
	perRound := max(1, o.latencyN/o.latencyRounds)
	all := make([][]time.Duration, len(runners))
	for r := 1; r <= o.latencyRounds; r++ {
		for i, rn := range runners {
			c0 := sampleCPU()
			ds, err := rn.run(perRound)
			if err != nil {
				return fmt.Errorf("%s latency: %w", rn.name, err)
			}
			fmt.Printf("latency round %d: %-11s %s  %s\n", r, rn.name, summary(ds), cpuPerJob(c0, sampleCPU(), len(ds)))
			all[i] = append(all[i], ds...)
		}
	}
	for i, rn := range runners {
		fmt.Printf("latency %s, one job per %s: %-11s %s\n", m.name, o.every, rn.name, summary(all[i]))
	}
	return nil
}

// checkCommitSetting confirms, through each runner's driver, that the
// mode's connections have the synchronous_commit the mode promises.
func checkCommitSetting(ctx context.Context, m mode) error {
	want := "on"
	if !m.syncCommit {
		want = "off"
	}
	db, err := store.Open(ctx, m.dsn, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	var ours string
	if err := db.GetContext(ctx, &ours, `SHOW synchronous_commit`); err != nil {
		return err
	}
	river, err := riverCommitSetting(ctx, m.dsn)
	if err != nil {
		return err
	}
	if ours != want || river != want {
		return fmt.Errorf("%s mode: synchronous_commit is %s (lib/pq) and %s (pgx), want %s", m.name, ours, river, want)
	}
	return nil
}

// database returns the DSN of a fresh, migrated bench database (our
// tables and River's) and a function that drops it and stops any server
// the bench started. The server is durable, as the app's embedded one.
func database(ctx context.Context, log *slog.Logger) (string, func(), error) {
	dsn, stop, err := benchdb.Open(ctx, "fp_bench_jobs", benchdb.Options{Logger: log})
	if err != nil {
		return "", nil, err
	}
	db, err := store.Open(ctx, dsn, 2)
	if err == nil {
		findPostmaster(ctx, db)
		db.Close()
		err = riverMigrate(ctx, dsn)
	}
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("migrate bench database: %w", err)
	}
	return dsn, stop, nil
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "?"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return strings.TrimPrefix(u.String(), "postgres://")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-jobs:", err)
	os.Exit(1)
}
