package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
)

// CPU accounting, so that runners can be compared on a shared machine
// where wall-clock throughput swings with the neighbours' load: the bench
// process's own CPU (getrusage) plus the CPU of the bench server's
// postgres processes (/proc), per job.

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// postmaster is the PID of the bench server's postmaster, or 0 when it
// cannot be found (a remote DATABASE_URL): then only the bench process's
// CPU is reported.
var postmaster int

func findPostmaster(ctx context.Context, db *sqlx.DB) {
	var dir string
	if err := db.GetContext(ctx, &dir, `SHOW data_directory`); err != nil {
		return
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return
	}
	line, _, _ := strings.Cut(string(b), "\n")
	postmaster, _ = strconv.Atoi(strings.TrimSpace(line))
}

type cpuSample struct{ self, server time.Duration }

func sampleCPU() cpuSample {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	s := cpuSample{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	if postmaster == 0 {
		return s
	}
	// The postmaster's own time plus its reaped children's (backends that
	// exited), plus every live child's.
	ents, _ := os.ReadDir("/proc")
	var ticks int64
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		n := func(k int) int64 { v, _ := strconv.ParseInt(f[k], 10, 64); return v }
		switch {
		case pid == postmaster:
			ticks += n(11) + n(12) + n(13) + n(14) // utime stime cutime cstime
		case ppid == postmaster:
			ticks += n(11) + n(12)
		}
	}
	s.server = time.Duration(ticks) * time.Second / clockTicks
	return s
}

// cpuPerJob formats the CPU spent between two samples per job.
func cpuPerJob(a, b cpuSample, n int) string {
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	self, server := b.self-a.self, b.server-a.server
	if postmaster == 0 {
		return fmt.Sprintf("cpu/job: bench %.1fµs", us(self))
	}
	return fmt.Sprintf("cpu/job: bench %.1fµs + postgres %.1fµs = %.1fµs", us(self), us(server), us(self+server))
}
