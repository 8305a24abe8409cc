package main

import (
	"fmt"
	"slices"
	"syscall"
	"time"
)

// pct is the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// dist is a one-line summary of samples, in milliseconds.
func dist(ds []time.Duration) string {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	mean := time.Duration(0)
	if len(ds) > 0 {
		mean = sum / time.Duration(len(ds))
	}
	return fmt.Sprintf("n=%d p50=%s p90=%s p99=%s max=%s mean=%s", len(ds), ms(pct(ds, 50)), ms(pct(ds, 90)), ms(pct(ds, 99)),
		ms(pct(ds, 100)), ms(mean))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// cpuUse is processor time: the bench process (the fake provider and the
// threads it writes), the worker processes, the private PostgreSQL.
type cpuUse struct{ bench, workers, db time.Duration }

func sampleCPU(r *rig, d *benchDB) cpuUse {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return cpuUse{bench: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), workers: r.workerCPU(), db: treeCPU(d.postmaster)}
}

func (c cpuUse) minus(o cpuUse) cpuUse {
	return cpuUse{bench: c.bench - o.bench, workers: c.workers - o.workers, db: c.db - o.db}
}

func (c cpuUse) total() time.Duration { return c.bench + c.workers + c.db }

// per is the CPU per one of n operations, split by who spent it.
func (c cpuUse) per(n int) string {
	if n == 0 {
		return "-"
	}
	each := func(d time.Duration) string { return ms(d / time.Duration(n)) }
	db := each(c.db)
	if c.db == 0 {
		db = "n/a (not a private server)"
	}
	return fmt.Sprintf("%s (workers %s, postgres %s, bench+fake provider %s)", each(c.total()), each(c.workers), db, each(c.bench))
}

// spread is the median and range of per-round figures.
func spread(xs []float64, format string) string {
	if len(xs) == 0 {
		return "-"
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf("median "+format+" (range "+format+"–"+format+" over %d rounds)", med, s[0], s[len(s)-1], len(s))
}
