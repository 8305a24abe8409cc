package main

import (
	"sort"
	"sync/atomic"
	"time"
)

// histogram counts latencies: 50 µs buckets up to 2 s, 5 ms buckets from
// there to 30 s (anything longer lands in the last one).
type histogram struct{ b []atomic.Int64 }

const (
	fine       = 50 * time.Microsecond
	fineUpTo   = 2 * time.Second
	coarse     = 5 * time.Millisecond
	histUpTo   = 30 * time.Second
	fineCount  = int(fineUpTo / fine)
	totalCount = fineCount + int((histUpTo-fineUpTo)/coarse) + 1
)

func newHistogram() *histogram { return &histogram{b: make([]atomic.Int64, totalCount)} }

func bucketOf(d time.Duration) int {
	switch {
	case d < 0:
		return 0
	case d < fineUpTo:
		return int(d / fine)
	default:
		return min(fineCount+int((d-fineUpTo)/coarse), totalCount-1)
	}
}

// upper is the largest latency bucket i holds.
func upper(i int) time.Duration {
	if i < fineCount {
		return time.Duration(i+1) * fine
	}
	return fineUpTo + time.Duration(i-fineCount+1)*coarse
}

func (h *histogram) add(d time.Duration) { h.b[bucketOf(d)].Add(1) }

func (h *histogram) count() int64 {
	var n int64
	for i := range h.b {
		n += h.b[i].Load()
	}
	return n
}

// quantiles returns the given quantiles in ms (each a bucket's upper
// bound, so never flattering).
func (h *histogram) quantiles(qs ...float64) []float64 {
	total := h.count()
	out := make([]float64, len(qs))
	if total == 0 {
		return out
	}
	sort.Float64s(qs)
	var seen int64
	j := 0
	for i := range h.b {
		seen += h.b[i].Load()
		for j < len(qs) && float64(seen) >= qs[j]*float64(total) {
			out[j] = float64(upper(i)) / float64(time.Millisecond)
			j++
		}
	}
	return out
}
