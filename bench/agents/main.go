// Command agents prints the figures of the agent execution engine (SPEC
// §12, issue 10), against the real application over a private PostgreSQL
// (or DATABASE_URL):
//
//  1. stream: provider chunk → SSE frame for 100 concurrent executions,
//     the app's overhead (target p99 ≤ 5 ms);
//  2. responder: the built-in responder answering from 100,000 forum
//     posts (target p99 ≤ 50 ms per answer, over 1,000 questions);
//  3. runner: 1,000 executions through the job runner with a fake
//     provider: throughput, and every execution settled exactly once
//     (also across a runner stopped in the middle).
//
// Figures are printed, not asserted: they are measurements of a machine
// that the app shares with PostgreSQL, the fake provider and the load
// generator (and, on a shared machine, with whatever else runs). Each
// figure gives its number of samples, its spread, the CPU time per
// operation (which depends less on the neighbours than wall time does)
// and its ratio to the target.
//
//	go run ./bench/agents [-only stream,responder,runner] [-fast]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"fleetprompt/bench/benchsite"
	"fleetprompt/handlers/live"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

type options struct {
	only   map[string]bool
	fast   bool
	stream streamOpts
	resp   responderOpts
	runs   runnerOpts
}

func main() {
	var o options
	only := flag.String("only", "stream,responder,runner", "figures to print, comma-separated")
	flag.BoolVar(&o.fast, "fast", false, "private PostgreSQL without fsync")
	flag.IntVar(&o.stream.execs, "execs", 100, "stream: concurrent executions")
	flag.IntVar(&o.stream.chunks, "chunks", 150, "stream: chunks per answer")
	flag.DurationVar(&o.stream.gap, "gap", 20*time.Millisecond, "stream: time between two chunks (20ms: 50 tokens/s, a fast model)")
	flag.IntVar(&o.stream.rounds, "rounds", 3, "stream: rounds (the spread between rounds is printed)")
	flag.IntVar(&o.resp.posts, "posts", 100000, "responder: forum posts")
	flag.IntVar(&o.resp.questions, "questions", 1000, "responder: questions asked")
	flag.IntVar(&o.resp.workers, "responder-workers", 2, "responder: job workers answering at once")
	flag.IntVar(&o.runs.n, "runs", 1000, "runner: executions")
	flag.IntVar(&o.runs.workers, "workers", 2*runtime.NumCPU(), "runner: job workers (the app's default: 2 × CPUs)")
	flag.BoolVar(&o.runs.interrupt, "interrupt", true, "runner: also run them again with the runner stopped halfway")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
	}
	o.only = map[string]bool{}
	for _, f := range strings.Split(*only, ",") {
		o.only[strings.TrimSpace(f)] = true
	}
	err := run(context.Background(), o)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "agents:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	fake := llmtest.New(streamReply(o.stream))
	defer fake.Close()
	// One signed-in client follows every execution: the per-session
	// stream cap (16, for people's tabs) is lifted for it.
	site, err := benchsite.Start(ctx, benchsite.Options{Fast: o.fast, MaxConns: 80, Agents: true,
		LLM:  llm.New(llm.Config{BaseURL: fake.BaseURL(), Model: "fake-model", IdleTimeout: time.Minute}),
		Live: live.Config{MaxSessionStreams: 4 * o.stream.execs}})
	if err != nil {
		return err
	}
	defer site.Close()
	fmt.Printf("machine: %d CPUs, shared with other work (figures are not from a quiet machine); fsync %v\n",
		runtime.NumCPU(), !o.fast)
	var summary []string
	if o.only["stream"] {
		fmt.Printf("\n1. provider chunk → SSE frame: %d executions at once, %d chunks each, %v apart, %d rounds\n",
			o.stream.execs, o.stream.chunks, o.stream.gap, o.stream.rounds)
		res, err := streamFigure(ctx, site, fake, o.stream)
		if err != nil {
			return fmt.Errorf("stream: %w", err)
		}
		summary = append(summary, res.summary(o.stream))
	}
	if o.only["responder"] {
		fmt.Printf("\n2. built-in responder: %d forum posts, %d questions, %d workers\n", o.resp.posts, o.resp.questions, o.resp.workers)
		res, err := responderFigure(ctx, site, o.resp)
		if err != nil {
			return fmt.Errorf("responder: %w", err)
		}
		if res.sample != "" {
			fmt.Printf("  a sample answer, to %q:\n%s\n", res.example, indent(res.sample))
		}
		summary = append(summary, res.summary(o.resp))
	}
	if o.only["runner"] {
		fmt.Printf("\n3. %d executions through the runner, %d workers, fake provider\n", o.runs.n, o.runs.workers)
		passes, err := runnerFigure(ctx, site, o.runs)
		if err != nil {
			return fmt.Errorf("runner: %w", err)
		}
		for _, p := range passes {
			summary = append(summary, p.summary(o.runs))
		}
	}
	fmt.Println()
	for _, s := range summary {
		fmt.Println(s)
	}
	return nil
}

func indent(s string) string {
	return "    | " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    | ")
}
