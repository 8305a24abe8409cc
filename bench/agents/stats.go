package main

import (
	"fmt"
	"math"
	"sort"
	"syscall"
	"time"

	"fleetprompt/bench/benchsite"
)

// dist is a set of timings, sorted once they are summarised.
type dist []time.Duration

func (d dist) sorted() dist {
	out := append(dist(nil), d...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// q is the q-quantile of sorted d (nearest rank).
func (d dist) q(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func (d dist) mean() time.Duration {
	if len(d) == 0 {
		return 0
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(len(d))
}

// String prints the samples and their spread: quantiles, the middle
// half (IQR) and the standard deviation.
func (d dist) String() string {
	s := d.sorted()
	if len(s) == 0 {
		return "no samples"
	}
	m := s.mean()
	var v float64
	for _, x := range s {
		v += math.Pow(float64(x-m), 2)
	}
	sd := time.Duration(math.Sqrt(v / float64(len(s))))
	return fmt.Sprintf("n=%d p50=%v p90=%v p99=%v p99.9=%v max=%v (IQR %v–%v, mean %v, sd %v)",
		len(s), r(s.q(.5)), r(s.q(.9)), r(s.q(.99)), r(s.q(.999)), r(s[len(s)-1]), r(s.q(.25)), r(s.q(.75)), r(m), r(sd))
}

// r rounds a duration for printing.
func r(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// cpuMeter is the processor time spent between start and stop: this
// process (the app, the fake provider and the clients, which share it)
// and the private PostgreSQL.
type cpuMeter struct {
	site     *benchsite.Site
	self, db time.Duration
}

func startCPU(site *benchsite.Site) *cpuMeter {
	self, db := site.CPU()
	return &cpuMeter{site: site, self: self, db: db}
}

// per is the CPU time per operation since start, for n operations.
func (m *cpuMeter) per(n int) (self, db time.Duration) {
	s, d := m.site.CPU()
	if n <= 0 {
		return 0, 0
	}
	return (s - m.self) / time.Duration(n), (d - m.db) / time.Duration(n)
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "OVER TARGET"
}

// processCPU is this process's processor time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
