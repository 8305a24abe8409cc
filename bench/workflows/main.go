// Command workflows prints the figures of issue 11 (SPEC §13), with the
// real `fleetprompt worker` binary running Customer Support Hub's
// "Support auto-reply" (installed through the marketplace directive) on a
// private, durable PostgreSQL, and a fake OpenAI-compatible provider on
// loopback HTTP:
//
//   - starts: signal committed → run started, and → first step running,
//     from the trigger's commit timestamp (track_commit_timestamp) to the
//     run's and step's started_at and to their transactions' commits;
//     p50/p90/p99/max over rounds (≥ 1,000 samples for the p99);
//   - throughput: bursts of 1,000 runs, runs per second from the first
//     thread written to the last run ended, CPU per run, and each run
//     checked to have made exactly one agent post;
//   - crash: the kill -9 loop of the test suite at full size.
//
// It ends with one line of the figures against the limits.
//
//	go run ./bench/workflows
//	go run ./bench/workflows -only starts -samples 2000 -rounds 4
//	go run ./bench/workflows -only throughput -runs 1000 -throughput-rounds 5
//	go run ./bench/workflows -only crash -crash-threads 200 -kills 40
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	only                string
	samples, rounds     int
	every               time.Duration
	runs, tRounds       int
	writers             int
	workers, perProcess int
	crash               crashOptions
	crashDelay          time.Duration
	keep                bool
	statements          int
}

func main() {
	var o options
	flag.StringVar(&o.only, "only", "", "run only these phases, comma-separated: starts, throughput, crash")
	flag.IntVar(&o.samples, "samples", 1000, "runs whose start is timed, over all rounds")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds the start samples are split over")
	flag.DurationVar(&o.every, "every", 200*time.Millisecond, "one thread every (start latency): well below the throughput, so runs do not queue")
	flag.IntVar(&o.runs, "runs", 1000, "runs per throughput round")
	flag.IntVar(&o.tRounds, "throughput-rounds", 3, "throughput rounds")
	flag.IntVar(&o.writers, "writers", 4, "goroutines writing the threads of a throughput round")
	flag.IntVar(&o.workers, "workers", 1, "worker processes (starts, throughput)")
	flag.IntVar(&o.perProcess, "workers-per-process", 0, "WORKERS of each worker process (0: the app's default, 2 × CPUs)")
	flag.IntVar(&o.crash.threads, "crash-threads", 100, "threads opened during the crash loop")
	flag.IntVar(&o.crash.kills, "kills", 20, "kill -9 count in the crash loop (two workers, in turn)")
	flag.DurationVar(&o.crash.every, "kill-every", 1500*time.Millisecond, "time between kills")
	flag.DurationVar(&o.crash.settle, "settle", 2*time.Minute, "how long after the last kill every run has to end")
	flag.DurationVar(&o.crashDelay, "crash-word-delay", 40*time.Millisecond, "the fake provider's pause before each word in the crash loop")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (worker logs, database)")
	flag.IntVar(&o.statements, "statements", 0, "after each throughput round, print this many statements by time (pg_stat_statements; private server only)")
	flag.Parse()
	o.crash.logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, "  "+f+"\n", a...) }
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/workflows:", err)
		os.Exit(1)
	}
}

func (o options) phase(name string) bool {
	if o.only == "" {
		return true
	}
	for _, p := range strings.Split(o.only, ",") {
		if strings.TrimSpace(p) == name {
			return true
		}
	}
	return false
}

// summary collects the last line.
type summary []string

func (s *summary) add(format string, a ...any) { *s = append(*s, fmt.Sprintf(format, a...)) }

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "fp-bench-workflows-")
	if err != nil {
		return err
	}
	os.Chmod(dir, 0o755) // the postgres user (we may be root) must reach its cluster
	if o.keep {
		defer fmt.Fprintln(os.Stderr, "kept", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintln(os.Stderr, "building the app…")
	bin, err := buildApp(dir, raceBuild)
	if err != nil {
		return err
	}
	d, err := openBenchDB(ctx, dir, o.statements > 0)
	if err != nil {
		return err
	}
	defer d.stop()
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("bench/workflows: real `fleetprompt worker` processes, durable PostgreSQL (%s), fake provider on loopback; %d CPUs, load average %s at the start (a shared machine: other work runs beside it)\n",
		map[bool]string{true: "commit timestamps on", false: "commit times clocked by the bench"}[d.commitTimes], runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	var sum summary
	if o.phase("starts") {
		if err := startsPhase(ctx, o, d, bin, dir, &sum); err != nil {
			return fmt.Errorf("starts: %w", err)
		}
	}
	if o.phase("throughput") {
		if err := throughputPhase(ctx, o, d, bin, dir, &sum); err != nil {
			return fmt.Errorf("throughput: %w", err)
		}
	}
	var broken error
	if o.phase("crash") {
		if broken = crashPhase(ctx, o, d, bin, dir, &sum); broken != nil && len(sum) == 0 {
			return fmt.Errorf("crash: %w", broken)
		}
	}
	fmt.Println("workflows: " + strings.Join(sum, " · "))
	return broken
}

func (o options) rig(ctx context.Context, d *benchDB, bin, dir string, workers int, delay time.Duration) (*rig, error) {
	return newRig(ctx, rigOptions{dsn: d.dsn, dir: dir, bin: bin, workers: workers, perProcess: o.perProcess, reply: answer(delay)})
}

func startsPhase(ctx context.Context, o options, d *benchDB, bin, dir string, sum *summary) error {
	r, err := o.rig(ctx, d, bin, dir, o.workers, 0)
	if err != nil {
		return err
	}
	defer r.close()
	fmt.Printf("\nstarts: %d threads in Support, one every %s, over %d rounds; from the trigger's commit\n", o.samples, o.every, o.rounds)
	var all []startSample
	var p99s []float64
	for i := range o.rounds {
		s, use, err := measureStarts(ctx, r, d, o.samples/o.rounds, o.every)
		if err != nil {
			return err
		}
		_, run, _, _, _ := columns(s)
		p99s = append(p99s, float64(pct(run, 99))/float64(time.Millisecond))
		fmt.Printf("  round %d: run started %s; CPU per run %s\n", i+1, dist(run), use.per(len(s)))
		all = append(all, s...)
	}
	req, run, runC, step, stepC := columns(all)
	fmt.Printf("  → run.start requested (committed):   %s\n", dist(req))
	fmt.Printf("  → run started (started_at):          %s\n", dist(run))
	fmt.Printf("  → run start committed:               %s\n", dist(runC))
	fmt.Printf("  → first step running (started_at):   %s\n", dist(step))
	fmt.Printf("  → first step running committed:      %s\n", dist(stepC))
	fmt.Printf("  run-started p99 per round: %s\n", spread(p99s, "%.1fms"))
	sum.add("run started p99 %s (≤ 50ms: %s) · first step running p99 %s (≤ 100ms: %s) [n=%d]",
		ms(pct(run, 99)), met(pct(run, 99) <= 50*time.Millisecond), ms(pct(step, 99)), met(pct(step, 99) <= 100*time.Millisecond), len(all))
	return nil
}

func columns(s []startSample) (req, run, runC, step, stepC []time.Duration) {
	for _, x := range s {
		run, step = append(run, x.run), append(step, x.step)
		if x.runCommitted > 0 {
			req, runC, stepC = append(req, x.requested), append(runC, x.runCommitted), append(stepC, x.stepCommitted)
		}
	}
	return
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func throughputPhase(ctx context.Context, o options, d *benchDB, bin, dir string, sum *summary) error {
	r, err := o.rig(ctx, d, bin, dir, o.workers, 0)
	if err != nil {
		return err
	}
	defer r.close()
	fmt.Printf("\nthroughput: %d rounds of %d Support auto-reply runs (threads written by %d goroutines at once; the fake provider answers at once)\n",
		o.tRounds, o.runs, o.writers)
	var rates, cpus []float64
	for i := range o.tRounds {
		if o.statements > 0 {
			d.resetStatements(ctx)
		}
		t, err := measureThroughput(ctx, r, d, o.runs, o.writers)
		if err != nil {
			return err
		}
		rates = append(rates, t.perSecond())
		cpus = append(cpus, float64(t.cpu.total()/time.Duration(t.runs))/float64(time.Millisecond))
		fmt.Printf("  round %d: %d runs in %s: %.0f runs/s; CPU per run %s; %.1f commits per run\n", i+1, t.runs, t.took.Round(time.Millisecond),
			t.perSecond(), t.cpu.per(t.runs), float64(t.commits)/float64(t.runs))
		if o.statements > 0 {
			d.topStatements(ctx, o.statements)
		}
	}
	var rep crashReport
	if err := check(ctx, r, &rep); err != nil {
		return err
	}
	verdict := fmt.Sprintf("each of the %d runs succeeded once with exactly one agent post", o.runs*o.tRounds)
	if len(rep.problems) > 0 {
		verdict = "PROBLEMS: " + strings.Join(rep.problems, "; ")
	}
	fmt.Printf("  runs/s: %s; CPU per run: %s\n  %s\n", spread(rates, "%.0f"), spread(cpus, "%.1fms"), verdict)
	sum.add("%d runs: %s runs/s, CPU %s per run, one agent post each: %s", o.runs, spread(rates, "%.0f"), spread(cpus, "%.1fms"),
		map[bool]string{true: "yes", false: "NO"}[len(rep.problems) == 0])
	return nil
}

func crashPhase(ctx context.Context, o options, d *benchDB, bin, dir string, sum *summary) error {
	r, err := o.rig(ctx, d, bin, dir, 2, o.crashDelay)
	if err != nil {
		return err
	}
	defer r.close()
	fmt.Printf("\ncrash: %d threads while one of two workers is killed (SIGKILL) every %s, %d times, each restarted at once\n",
		o.crash.threads, o.crash.every, o.crash.kills)
	rep, err := runCrash(ctx, r, o.crash)
	if err != nil {
		return err
	}
	fmt.Printf("  %s\n", rep)
	sum.add("crash: %d kills (%d mid-step), %d runs retried, %d problems", rep.kills, rep.midStep, rep.retried, len(rep.problems))
	if len(rep.problems) > 0 {
		return fmt.Errorf("the crash loop broke %d promises (above)", len(rep.problems))
	}
	return nil
}
