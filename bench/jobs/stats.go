package main

import (
	"fmt"
	"slices"
	"time"
)

// summary gives a latency sample's percentiles and size.
func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	pct := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("p50=%s p90=%s p99=%s max=%s (n=%d)", ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(s[len(s)-1]), len(s))
}

// spread gives rounds' rates as median and range.
func spread(vs []float64) string {
	if len(vs) == 0 {
		return "not run"
	}
	return fmt.Sprintf("median %.0f/s (min %.0f, max %.0f)", median(vs), slices.Min(vs), slices.Max(vs))
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
