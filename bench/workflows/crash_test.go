package main

import (
	"context"
	"os"
	"testing"
	"time"

	"fleetprompt/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// The worker process is killed (SIGKILL) again and again while Support
// auto-reply runs are in flight, each kill once the victim runs an agent
// step, and restarted at once; afterwards every run has succeeded exactly
// once, every thread has exactly one agent post (linked to its run's
// execution), and no step attempt made a second execution or directive.
// The full version (more threads, more kills) is `make bench-workflows`.
func TestWorkerKilledMidStepRepeatedly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the app binary and waits out a killed worker's heartbeat timeout")
	}
	ctx := context.Background()
	began := time.Now()
	dir := t.TempDir()
	bin, err := buildApp(dir, raceBuild)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built the app in %s", time.Since(began).Round(100*time.Millisecond))
	// About half a second an answer: a kill that waits for a running
	// step finds one.
	r, err := newRig(ctx, rigOptions{dsn: storetest.DSN(), dir: dir, bin: bin, workers: 2, perProcess: 3, reply: answer(40 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close)
	rep, err := runCrash(ctx, r, crashOptions{threads: 10, kills: 4, every: 1200 * time.Millisecond, settle: 60 * time.Second, logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if len(rep.problems) > 0 {
		t.Fatalf("%d promises broken", len(rep.problems))
	}
	if rep.midStep == 0 {
		t.Error("no kill caught a worker inside an agent step")
	}
	t.Logf("took %s in all", time.Since(began).Round(100*time.Millisecond))
}
