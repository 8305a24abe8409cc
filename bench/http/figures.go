package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// side is one side of a mode (the bare page or the app) over its rounds.
type side struct {
	reads, writes []int64 // latencies, ns
	errors        int64
	firstError    string
	elapsed       time.Duration
	rounds        []float64 // requests per second of each round
	// CPU used meanwhile by the server process (the app, or the bare Gin
	// server), by PostgreSQL, and by the load generator.
	cpuServer, cpuDB, cpuLoad time.Duration
}

func (s *side) add(o outcome, server, db, load time.Duration) {
	s.reads, s.writes = append(s.reads, o.Reads...), append(s.writes, o.Writes...)
	s.errors += o.Errors
	if s.firstError == "" {
		s.firstError = o.FirstError
	}
	s.elapsed += o.Elapsed
	s.rounds = append(s.rounds, float64(len(o.Reads)+len(o.Writes))/o.Elapsed.Seconds())
	s.cpuServer, s.cpuDB, s.cpuLoad = s.cpuServer+server, s.cpuDB+db, s.cpuLoad+load
}

func (s *side) n() int { return len(s.reads) + len(s.writes) }

// rps is requests per second over every round.
func (s *side) rps() float64 {
	if s.elapsed == 0 {
		return 0
	}
	return float64(s.n()) / s.elapsed.Seconds()
}

// spread is (max - min) / median of the rounds' rates.
func (s *side) spread() float64 {
	if len(s.rounds) == 0 {
		return 0
	}
	r := slices.Sorted(slices.Values(s.rounds))
	return (r[len(r)-1] - r[0]) / r[len(r)/2]
}

// cpuPerRequest is all the CPU a request took, in µs: the server's,
// PostgreSQL's and the load generator's. On a machine others share, the
// ratio of two sides' CPU per request says what the ratio of their rates
// would be on an idle one (both are CPU-bound there), where the rates'
// own ratio depends on how the machine was shared during each round.
func (s *side) cpuPerRequest() float64 {
	return perRequest(s.cpuServer+s.cpuDB+s.cpuLoad, s.n())
}

func percentile(lats []int64, p float64) time.Duration {
	if len(lats) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(lats))
	return time.Duration(s[min(int(float64(len(s))*p), len(s)-1)])
}

func perRequest(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d) / float64(n) / float64(time.Microsecond)
}

// line prints one side's figures.
func (s *side) line(name string) {
	n := s.n()
	rounds := make([]string, len(s.rounds))
	for i, r := range s.rounds {
		rounds[i] = fmt.Sprintf("%.0f", r)
	}
	fmt.Printf("  %-7s %7.0f req/s  rounds [%s] spread %4.1f%%  samples %d  errors %d\n",
		name, s.rps(), strings.Join(rounds, " "), 100*s.spread(), n, s.errors)
	if len(s.reads) > 0 {
		fmt.Printf("          reads   p50 %6.2f ms  p99 %6.2f ms (%d)\n", ms(percentile(s.reads, .5)), ms(percentile(s.reads, .99)), len(s.reads))
	}
	if len(s.writes) > 0 {
		fmt.Printf("          replies p50 %6.2f ms  p99 %6.2f ms (%d, %.0f/s)\n", ms(percentile(s.writes, .5)),
			ms(percentile(s.writes, .99)), len(s.writes), float64(len(s.writes))/s.elapsed.Seconds())
	}
	fmt.Printf("          CPU per request: server %5.0f µs + PostgreSQL %4.0f µs (load generator %4.0f µs)\n",
		perRequest(s.cpuServer, n), perRequest(s.cpuDB, n), perRequest(s.cpuLoad, n))
	if s.firstError != "" {
		fmt.Printf("          first error: %s\n", s.firstError)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
