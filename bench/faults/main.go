// Command faults puts FleetPrompt's faults on record (issue 14, SPEC §17):
// it builds the app binary once, runs it as real processes (two serve,
// two worker) on a private, durable PostgreSQL, drives them over loopback
// HTTP as signed-in people do (forms with their idempotency keys, some
// sent twice), and prints, in one run:
//
//   - crash loop: kill -9 of worker processes and of serve during
//     concurrent installs, uninstalls and replies across 20+ tenants; then
//     directives ended, duplicates, acknowledged writes missing, and the
//     time from the last kill to every directive ended;
//   - database restart: pg_ctl restart -m immediate and a 10 s stop under
//     reply load with resuming SSE streams open: 5xx by status,
//     acknowledged replies missing, stream gaps and duplicates, recovery;
//   - hostile clients: slowloris, a stream flood from one user, oversized
//     bodies: p99 of GET / for another member during each, and without.
//
// It ends with the figures to reach, each said met or not.
//
//	go run ./bench/faults                    # the full run, ≤ ~10 min
//	go run ./bench/faults -kills 10 -only crash
//	go run ./bench/faults -only crash -settle 9m   # wait out a slow rescue
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type options struct {
	only    string
	crash   crashOptions
	restart restartOptions
	hostile hostileOptions
	serves  int
	workers int
	perProc int
	keep    bool
}

func main() {
	var o options
	flag.StringVar(&o.only, "only", "", "run only these phases, comma-separated: crash, restart, hostile")
	flag.IntVar(&o.crash.tenants, "tenants", 24, "organizations under load in the crash loop")
	flag.IntVar(&o.crash.kills, "kills", 30, "kill -9 count in the crash loop (every tenth is a serve process)")
	flag.DurationVar(&o.crash.every, "kill-every", 2500*time.Millisecond, "time between kills")
	flag.DurationVar(&o.crash.settle, "settle", 75*time.Second, "how long to wait after the last kill for every directive to end")
	flag.IntVar(&o.restart.streams, "streams", 8, "SSE streams open on the thread during the database restart")
	flag.IntVar(&o.restart.writers, "writers", 6, "concurrent reply writers during the database restart")
	flag.DurationVar(&o.restart.down, "down", 10*time.Second, "how long the database stays stopped")
	flag.IntVar(&o.hostile.samples, "samples", 1000, "at least this many GET / samples per hostile measurement")
	flag.DurationVar(&o.hostile.duration, "hostile-duration", 10*time.Second, "at least this long per hostile measurement")
	flag.IntVar(&o.hostile.slowloris, "slowloris", 2000, "slowloris connections")
	flag.IntVar(&o.hostile.streams, "flood", 3000, "/events streams one session opens")
	flag.IntVar(&o.hostile.bodies, "bodies", 4, "oversized posts at once")
	flag.Int64Var(&o.hostile.bodySize, "body-mib", 8, "size of each oversized post in MiB")
	flag.IntVar(&o.serves, "serves", 2, "serve processes")
	flag.IntVar(&o.workers, "workers", 2, "worker processes")
	flag.IntVar(&o.perProc, "workers-per-process", 3, "WORKERS of each process")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, database) at the end")
	flag.Parse()
	o.hostile.bodySize <<= 20
	o.crash.packages = []string{"starter-agents", "customer-support", "sales-automation", "field-service"}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/faults:", err)
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

func run(ctx context.Context, o options) error {
	raiseFileLimit()
	began := time.Now()
	dir, err := os.MkdirTemp("", "fp-faults-")
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
	bin, err := build(dir)
	if err != nil {
		return err
	}
	d, err := openDatabase(ctx, dir, bin)
	if err != nil {
		return err
	}
	defer d.close()
	f, err := newFleet(ctx, bin, dir, d.dsn, o.serves, o.workers, o.perProc)
	if err != nil {
		return err
	}
	defer f.stop()
	fmt.Printf("bench/faults: %d serve + %d worker processes (WORKERS=%d each), durable private PostgreSQL, loopback only; %d CPUs shared with whatever else runs\n",
		o.serves, o.workers, o.perProc, numCPU())

	var res results
	if o.phase("crash") {
		tenants, err := makeTenants(ctx, f, d, "crash", o.crash.tenants, true)
		if err != nil {
			return err
		}
		r, err := runCrashLoop(ctx, f, d, tenants, o.crash)
		if err != nil {
			return err
		}
		r.print()
		res.crash = &r
	}
	if o.phase("restart") {
		tenants, err := makeTenants(ctx, f, d, "dbrestart", 1, false)
		if err != nil {
			return err
		}
		r, err := runRestart(ctx, f, d, tenants[0], o.restart)
		if err != nil {
			return err
		}
		r.print()
		res.restart = &r
	}
	if o.phase("hostile") {
		lats, err := runHostile(ctx, f, d, o.hostile)
		if err != nil {
			return err
		}
		fmt.Println("== hostile clients ==")
		for _, l := range lats {
			l.print()
		}
		res.hostile = lats
	}
	res.print(o)
	fmt.Printf("bench/faults: done in %s\n", time.Since(began).Round(time.Second))
	return nil
}

// makeTenants registers n organizations through the register form, each
// with a category and a thread made through the forum's forms.
func makeTenants(ctx context.Context, f *fleet, d *database, prefix string, n int, enterprise bool) ([]*tenant, error) {
	var out []*tenant
	for i := range n {
		tn := &tenant{slug: fmt.Sprintf("%s%02d", prefix, i+1), owner: newBrowser(f.urls())}
		if n == 1 {
			tn.slug = prefix
		}
		if err := tn.owner.register(tn.slug); err != nil {
			return nil, err
		}
		var err error
		if tn.thread, err = tn.owner.newThread(); err != nil {
			return nil, fmt.Errorf("%s: %w", tn.slug, err)
		}
		out = append(out, tn)
	}
	if enterprise {
		return out, d.setEnterprise(ctx, prefix)
	}
	return out, nil
}

// runHostile measures GET / for a bystander without an attack, then under
// each hostile client, all against the first serve process.
func runHostile(ctx context.Context, f *fleet, d *database, opt hostileOptions) ([]latency, error) {
	ts, err := makeTenants(ctx, f, d, "hostile", 3, false)
	if err != nil {
		return nil, err
	}
	serve := f.serves[0]
	base := "http://" + serve.addr
	// The bystander is signed in to an organization of its own.
	bystander := newBrowser([]string{base})
	if err := bystander.login(ts[0].owner.email); err != nil {
		return nil, err
	}
	attacker, flooder := ts[1], ts[2]
	var peak atomic.Int64
	out := []latency{
		measure(ctx, "no attack (anchor)", bystander, serve, opt, nil),
		measure(ctx, "slowloris", bystander, serve, opt, slowloris(serve.addr, opt.slowloris)),
		measure(ctx, "stream flood (one user)", bystander, serve, opt, streamFlood(flooder.owner, base, flooder.thread, opt.streams, &peak)),
		measure(ctx, "oversized bodies", bystander, serve, opt, oversized(attacker.owner, base, attacker.thread, opt.bodies, opt.bodySize)),
	}
	out[2].streams = peak.Load()
	return out, nil
}
