package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"fleetprompt/handlers/live"
)

// Issue 9's targets for 10,000 subscribers at 10 replies/s.
const (
	targetP50     = 50.0  // ms
	targetP99     = 150.0 // ms
	targetBurnP99 = 300.0 // ms, with one core burned
)

func (r *run) print() {
	o := r.o
	durability := "durable (fsync on)"
	if o.Fast {
		durability = "fsync off"
	}
	burn := "no CPU burner"
	if o.Burn {
		burn = fmt.Sprintf("one core burned (the burner got %.1f s of CPU in %.1f s)", r.burned.Seconds(), r.wall.Seconds())
	}
	fmt.Printf("\nbench/sse: %d subscribers to one thread, %d replies/s for %v per phase, PostgreSQL %s, GOMAXPROCS %d, %s\n",
		o.Subscribers, o.Rate, o.Duration, durability, runtime.GOMAXPROCS(0), burn)
	fmt.Printf("connect: %d subscribers in %.1fs\n", r.gen.Connected, r.gen.ConnectSeconds)
	var verdicts []string
	for i, p := range r.gen.Phases {
		var sp serverPhase
		if i < len(r.phases) {
			sp = r.phases[i]
		}
		verdicts = append(verdicts, r.printPhase(p, sp, i == 1)...)
	}
	n := float64(o.Subscribers)
	fmt.Printf("server per connection: %.1f goroutines, %.1f KiB of them stacks; memory %.1f KiB RSS, %.1f KiB Go heap+stacks\n",
		float64(int64(r.loaded.Goroutines)-int64(r.before.Goroutines))/n, float64(int64(r.loaded.Stack)-int64(r.before.Stack))/n/1024,
		float64(int64(r.loaded.RSS)-int64(r.before.RSS))/n/1024, float64(int64(r.loaded.Live)-int64(r.before.Live))/n/1024)
	fmt.Printf("targets (issue 9): %s\n", strings.Join(verdicts, "; "))
}

// printPhase prints one phase and returns its verdicts against the targets.
func (r *run) printPhase(p phaseResult, sp serverPhase, stalled bool) []string {
	lost := p.Expected - p.Received
	secs := sp.end.startedAt.Sub(sp.start.startedAt).Seconds()
	fmt.Printf("%s (load average %s → %s):\n", p.Name, sp.start.loadAvg, sp.end.loadAvg)
	fmt.Printf("  replies %d (%.1f/s)  deliveries %d/%d  lost %d  duplicates %d  reconnects %d\n",
		p.Replies, float64(p.Replies)/r.o.Duration.Seconds(), p.Received, p.Expected, lost, p.Duplicates, p.Reconnects)
	lo50, hi50, lo99, hi99 := spread(p.Rounds)
	fmt.Printf("  latency p50 %.1f ms  p99 %.1f ms  max %.1f ms  from %d samples; over %d rounds p50 %.1f–%.1f ms, p99 %.1f–%.1f ms\n",
		p.P50, p.P99, p.Max, p.Samples, len(p.Rounds), lo50, hi50, lo99, hi99)
	fmt.Printf("  POST p50 %.1f ms  p99 %.1f ms  last delivery %.2f s after the last post\n", p.PostP50, p.PostP99, p.Drain.Seconds())
	d := delta(sp.start.stats, sp.end.stats)
	perWrite := 0.0
	if d.Writes > 0 {
		perWrite = float64(d.Frames) / float64(d.Writes)
	}
	fmt.Printf("  hub: open %d at the end  cut %d  refused %d  writes %d  coalesced %d (%.2f %%)  frames per write %.2f\n",
		sp.end.stats.Open, d.Cut, d.Refused, d.Writes, d.CoalescedWrites, pct(d.CoalescedWrites, d.Writes), perWrite)
	if p.Replies > 0 && p.Received > 0 {
		app, db := sp.end.app-sp.start.app, sp.end.db-sp.start.db
		gen := r.gen.CPUSeconds / float64(len(r.gen.Phases)) * 1e3 / float64(p.Replies)
		fmt.Printf("  CPU per event: server %.1f ms (%.2f µs per delivery), PostgreSQL %.2f ms, generator ≈ %.1f ms; server busy %.0f %% of a core\n",
			ms(app)/float64(p.Replies), float64(app.Nanoseconds())/1e3/float64(p.Received), ms(db)/float64(p.Replies), gen,
			100*app.Seconds()/secs)
	}
	var v []string
	check := func(name string, ok bool) {
		mark := "ok"
		if !ok {
			mark = "MISSED"
		}
		v = append(v, name+" "+mark)
	}
	tag := "healthy"
	if stalled {
		tag = "stalled"
	}
	if r.o.Burn {
		check(fmt.Sprintf("%s p99 %.0f ≤ %.0f ms", tag, p.P99, targetBurnP99), p.P99 <= targetBurnP99)
	} else {
		check(fmt.Sprintf("%s p50 %.0f ≤ %.0f ms", tag, p.P50, targetP50), p.P50 <= targetP50)
		check(fmt.Sprintf("%s p99 %.0f ≤ %.0f ms", tag, p.P99, targetP99), p.P99 <= targetP99)
	}
	check(fmt.Sprintf("%s lost %d", tag, lost), lost == 0 && p.Duplicates == 0)
	if stalled {
		check(fmt.Sprintf("stalled subscriber cut (%d)", d.Cut), d.Cut >= 1)
	}
	return v
}

func delta(a, b live.Stats) live.Stats {
	return live.Stats{Cut: b.Cut - a.Cut, Refused: b.Refused - a.Refused, Writes: b.Writes - a.Writes,
		CoalescedWrites: b.CoalescedWrites - a.CoalescedWrites, Frames: b.Frames - a.Frames}
}

func spread(rs []roundResult) (lo50, hi50, lo99, hi99 float64) {
	for i, r := range rs {
		if i == 0 {
			lo50, hi50, lo99, hi99 = r.P50, r.P50, r.P99, r.P99
			continue
		}
		lo50, hi50 = min(lo50, r.P50), max(hi50, r.P50)
		lo99, hi99 = min(lo99, r.P99), max(hi99, r.P99)
	}
	return
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
