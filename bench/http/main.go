// Command http measures the thread page (GET /forums/t/:id, a thread of
// 50 posts) and replies over real HTTP, at 64 connections, against a bare
// Gin handler serving each connection the very bytes the app gave it,
// measured in alternating rounds in the same run. Modes:
//
//	hit      one viewer (the owner) on every connection
//	viewers  64 distinct signed-in users (1 in 8 an admin)
//	miss     the same 64, no pages kept: every view reads PostgreSQL and
//	         renders the page (the posts' fragments are kept, as after a
//	         reply: handlers.ThreadCacheFragments)
//	cold     the same, nothing kept at all (handlers.ThreadCacheOff)
//	mixed    the 64, a share (-share, 10 %) of requests are replies to the
//	         thread through the real POST route
//	replies  only replies, with the app's job runner working in this
//	         process (app.NewPlatform: whatever it registers runs here)
//
// Each mode prints its samples, per-round rates and spread, p50/p99, and
// CPU per request of the server process and of PostgreSQL (the load
// generator runs in a child process, so the server's CPU is its own).
// Loopback only; bounded in time.
//
//	go run ./bench/http -duration 10s [-modes hit,mixed] [-cpuprofile cpu.out]
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

type config struct {
	conns, rounds, workers int
	dbConns                int
	dur                    time.Duration
	share                  float64
	fast                   bool
	modes                  map[string]bool
	cpuprofile             string
}

func main() {
	var cfg config
	child := flag.Bool("loadgen", false, "run as the load generator (internal)")
	flag.IntVar(&cfg.conns, "connections", 64, "concurrent connections")
	flag.DurationVar(&cfg.dur, "duration", 10*time.Second, "time per side (bare, app) of each mode, split into the rounds")
	flag.IntVar(&cfg.rounds, "rounds", 4, "alternating rounds of the bare handler and the app per mode")
	flag.Float64Var(&cfg.share, "share", 0.10, "share of requests that are replies in mode mixed")
	flag.IntVar(&cfg.workers, "workers", 2*runtime.NumCPU(), "job workers of the in-process platform (the app's default)")
	flag.BoolVar(&cfg.fast, "fast", false, "fsync off in the private PostgreSQL")
	flag.IntVar(&cfg.dbConns, "dbconns", 0, "the server's PostgreSQL pool (0: the app's own, workers + 16, app/database.go)")
	modes := flag.String("modes", "hit,viewers,miss,cold,mixed,replies", "modes to run, in this order")
	flag.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write the server process's CPU profile over every mode to this file")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address")
	flag.Parse()
	if *child {
		if err := loadgen(); err != nil {
			fmt.Fprintln(os.Stderr, "bench/http loadgen:", err)
			os.Exit(1)
		}
		return
	}
	cfg.rounds = max(cfg.rounds, 1)
	if cfg.dbConns <= 0 {
		cfg.dbConns = cfg.workers + 16
	}
	cfg.modes = map[string]bool{}
	for _, m := range strings.Split(*modes, ",") {
		cfg.modes[strings.TrimSpace(m)] = true
	}
	if *pprofAddr != "" {
		go http.ListenAndServe(*pprofAddr, nil)
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench/http:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	b, err := newBench(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.close()
	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	durability := "durable (fsync on)"
	if cfg.fast {
		durability = "fsync off"
	}
	fmt.Printf("bench/http: %d connections, thread of 50 posts, %v per side and mode in %d alternating rounds, PostgreSQL %s, pool of %d, %d CPUs (shared machine: figures are ratios of the same run)\n",
		cfg.conns, cfg.dur, cfg.rounds, durability, cfg.dbConns, runtime.NumCPU())
	var sum []string
	for _, m := range b.modes() {
		if !cfg.modes[m.name] {
			continue
		}
		line, err := b.measureMode(m)
		if err != nil {
			return fmt.Errorf("mode %s: %w", m.name, err)
		}
		sum = append(sum, line)
	}
	if cfg.modes["replies"] {
		line, err := b.measureReplies()
		if err != nil {
			return fmt.Errorf("replies: %w", err)
		}
		sum = append(sum, line)
	}
	fmt.Printf("\nsummary: ratio = the app's requests/s ÷ the bare Gin page's (same bytes, same run); by CPU = the bare page's CPU per request ÷ the app's (server + PostgreSQL + load generator), what the ratio is on an idle machine\n%s\n", strings.Join(sum, "\n"))
	return nil
}
