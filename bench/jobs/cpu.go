package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/bench/benchdb"
)

// CPU accounting, so that runners can be compared on a shared machine
// where wall-clock throughput swings with the neighbours' load: the bench
// process's own CPU (getrusage) plus the CPU of the bench server's
// postgres processes (/proc), per job.

// dataDir is the bench server's data directory, or "" when it cannot be
// read: then only the bench process's CPU is reported (ServerCPU also
// reads zero for a server on another machine).
var dataDir string

func findPostmaster(ctx context.Context, db *sqlx.DB) {
	db.GetContext(ctx, &dataDir, `SHOW data_directory`)
}

type cpuSample struct{ self, server time.Duration }

func sampleCPU() cpuSample {
	s := cpuSample{self: benchdb.ProcessCPU()}
	if dataDir != "" {
		s.server = benchdb.ServerCPU(dataDir)
	}
	return s
}

// cpuPerJob formats the CPU spent between two samples per job.
func cpuPerJob(a, b cpuSample, n int) string {
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	self, server := b.self-a.self, b.server-a.server
	if dataDir == "" {
		return fmt.Sprintf("cpu/job: bench %.1fµs", us(self))
	}
	return fmt.Sprintf("cpu/job: bench %.1fµs + postgres %.1fµs = %.1fµs", us(self), us(server), us(self+server))
}
