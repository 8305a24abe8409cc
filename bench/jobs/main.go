// Command jobs benchmarks FleetPrompt's job runner against River on the
// same PostgreSQL in the same run: no-op throughput (insert + claim +
// complete) and pickup latency (insert committed → handler starts) on a
// lightly loaded queue. The last line it prints is
//
//	jobs: ours=N/s river=M/s ratio=R
//
// It uses DATABASE_URL when set (the database named there is used as is:
// the bench creates and drops a database "fp_bench_jobs" beside it), and
// otherwise starts a private PostgreSQL in a temporary directory, with the
// same durable settings the app's embedded server uses.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"fleetprompt/bench/benchdb"
	"fleetprompt/store"
)

func main() {
	var (
		jobsN    = flag.Int("n", 100_000, "jobs per throughput round")
		rounds   = flag.Int("rounds", 2, "throughput rounds per runner (the best counts)")
		workers  = flag.Int("workers", 1000, "max workers for the throughput rounds (both runners)")
		latencyN = flag.Int("latency-jobs", 100, "jobs per latency run")
		skipLat  = flag.Bool("skip-latency", false, "skip the latency runs")
		only     = flag.String("only", "", "run only this runner's throughput rounds (ours or river)")
		cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of the throughput rounds to this file")
	)
	flag.Parse()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	dsn, stop, err := database(ctx, log)
	if err != nil {
		fail(err)
	}
	defer stop()
	fmt.Printf("database: %s\n", redact(dsn))

	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
	}
	var ours, river float64
	for r := 1; r <= *rounds; r++ {
		// Alternate, so neither always runs on a warmer server.
		if *only != "river" {
			c0 := sampleCPU()
			o, err := oursThroughput(ctx, dsn, *jobsN, *workers, log)
			if err != nil {
				fail(fmt.Errorf("ours: %w", err))
			}
			fmt.Printf("throughput round %d: ours  %8.0f jobs/s  %s\n", r, o, cpuPerJob(c0, sampleCPU(), *jobsN))
			ours = max(ours, o)
		}
		if *only != "ours" {
			c0 := sampleCPU()
			rv, err := riverThroughput(ctx, dsn, *jobsN, *workers, log)
			if err != nil {
				fail(fmt.Errorf("river: %w", err))
			}
			fmt.Printf("throughput round %d: river %8.0f jobs/s  %s\n", r, rv, cpuPerJob(c0, sampleCPU(), *jobsN))
			river = max(river, rv)
		}
	}
	if *cpuProf != "" {
		pprof.StopCPUProfile()
	}

	if !*skipLat {
		for _, every := range []time.Duration{50 * time.Millisecond, 250 * time.Millisecond} {
			lo, err := oursLatency(ctx, dsn, *latencyN, every, log)
			if err != nil {
				fail(fmt.Errorf("ours latency: %w", err))
			}
			fmt.Printf("latency one job per %-5s ours  %s\n", every, summary(lo))
			lr, err := riverLatency(ctx, dsn, *latencyN, every, log)
			if err != nil {
				fail(fmt.Errorf("river latency: %w", err))
			}
			fmt.Printf("latency one job per %-5s river %s\n", every, summary(lr))
		}
	}
	fmt.Printf("jobs: ours=%.0f/s river=%.0f/s ratio=%.2f\n", ours, river, ours/river)
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

func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	pct := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("p50=%s p99=%s max=%s (n=%d)", ms(pct(0.50)), ms(pct(0.99)), ms(ds[len(ds)-1]), len(ds))
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
