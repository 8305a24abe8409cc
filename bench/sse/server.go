package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"fleetprompt/bench/benchsite"
	"fleetprompt/handlers/live"
)

// snapshot is what the server counts at a phase's start and end.
type snapshot struct {
	stats     live.Stats
	app, db   time.Duration // CPU: this process, the private PostgreSQL
	loadAvg   string
	startedAt time.Time
}

// serverPhase is a phase's counts on the server side.
type serverPhase struct{ start, end snapshot }

// run is one run's figures, for the report.
type run struct {
	o              options
	gen            genResult
	phases         []serverPhase
	before, loaded memory
	burned         time.Duration
	wall           time.Duration
}

func serve(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	// One account opens every stream (it stands for as many browsers), so
	// the per-session cap is lifted; the process cap leaves room for the
	// stalled subscriber and the reconnects of cut ones.
	site, err := benchsite.Start(ctx, benchsite.Options{Fast: o.Fast, MaxConns: 40,
		Live: live.Config{MaxStreams: 2*o.Subscribers + 16, MaxSessionStreams: 2*o.Subscribers + 16}})
	if err != nil {
		return err
	}
	defer site.Close()
	r := &run{o: o, before: measure()}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "-role=gen", "-addr="+site.Addr, "-thread="+site.ThreadID,
		"-email="+site.Email, "-password="+site.Password, "-subscribers="+strconv.Itoa(o.Subscribers),
		"-rate="+strconv.Itoa(o.Rate), "-duration="+o.Duration.String())
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	var stopBurner func() time.Duration
	if o.Burn {
		if stopBurner, err = startBurner(); err != nil {
			return err
		}
		defer func() {
			if stopBurner != nil {
				stopBurner()
			}
		}()
	}
	start := time.Now()
	if err := r.converse(site, stdin, stdout); err != nil {
		return err
	}
	r.wall = time.Since(start)
	if stopBurner != nil {
		r.burned, stopBurner = stopBurner(), nil
	}
	stdin.Close()
	if len(r.gen.Phases) == 0 {
		return fmt.Errorf("the generator reported nothing")
	}
	r.print()
	return nil
}

// converse follows the generator's lines: READY (every subscriber is
// connected), PHASE and END (the server takes its counts), RESULT.
func (r *run) converse(site *benchsite.Site, stdin io.Writer, stdout io.Reader) error {
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	take := func() snapshot {
		app, db := site.CPU()
		return snapshot{stats: site.Hub.Stats(), app: app, db: db, loadAvg: loadAverage(), startedAt: time.Now()}
	}
	for lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "READY"):
			// Every subscriber is connected: wait until the hub counts them
			// (the last ones may still be replaying), then measure.
			for deadline := time.Now().Add(time.Minute); site.Hub.Subscribers() < r.o.Subscribers && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			r.loaded = measure()
			fmt.Fprintf(os.Stderr, "server: %d subscribers, RSS %.1f MiB (was %.1f)\n", site.Hub.Subscribers(),
				float64(r.loaded.RSS)/(1<<20), float64(r.before.RSS)/(1<<20))
			if p := os.Getenv("BENCH_CPU_PROFILE"); p != "" {
				if f, err := os.Create(p); err == nil {
					pprof.StartCPUProfile(f)
					defer pprof.StopCPUProfile()
				}
			}
			fmt.Fprintln(stdin, "GO")
		case strings.HasPrefix(line, "PHASE "):
			r.phases = append(r.phases, serverPhase{start: take()})
			fmt.Fprintln(stdin, "OK")
		case strings.HasPrefix(line, "END "):
			if len(r.phases) > 0 {
				r.phases[len(r.phases)-1].end = take()
			}
			fmt.Fprintln(stdin, "OK")
		case strings.HasPrefix(line, "RESULT "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), &r.gen); err != nil {
				return err
			}
		default:
			fmt.Fprintln(os.Stderr, "gen:", line)
		}
	}
	return lines.Err()
}
