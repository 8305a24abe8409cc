package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fleetprompt/bench/benchsite"
)

// cpuMeter reads, to the nanosecond, the processor time spent so far by
// this process (server, handlers, client) and by PostgreSQL's processes
// (/proc/<pid>/schedstat: time on a CPU), so each search's own CPU time
// can be told apart from the time it waited for a CPU on a shared
// machine. The PostgreSQL processes are the postmaster's children, found
// from a backend of the site's pool.
type cpuMeter struct {
	postmaster string
	pids       []string
}

func newCPUMeter(site *benchsite.Site) *cpuMeter {
	var backend int
	if err := site.Store.DB.Get(&backend, `SELECT pg_backend_pid()`); err != nil {
		return &cpuMeter{}
	}
	m := &cpuMeter{postmaster: statField(strconv.Itoa(backend), 1)}
	m.refresh()
	return m
}

// refresh lists the postmaster's children (the pool opens connections as
// it needs them).
func (m *cpuMeter) refresh() {
	if m.postmaster == "" {
		return
	}
	m.pids = []string{m.postmaster}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid := filepath.Base(p)
		if statField(pid, 1) == m.postmaster {
			m.pids = append(m.pids, pid)
		}
	}
}

// now is the CPU time used so far: this process's, PostgreSQL's.
func (m *cpuMeter) now() (self, db time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, pid := range m.pids {
		b, err := os.ReadFile("/proc/" + pid + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			db += time.Duration(ns)
		}
	}
	return self, db
}

// statField is field i (0 = state, 1 = ppid, …) after the command of
// /proc/<pid>/stat.
func statField(pid string, i int) string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	j := strings.LastIndexByte(s, ')')
	if j < 0 {
		return ""
	}
	f := strings.Fields(s[j+1:])
	if i >= len(f) {
		return ""
	}
	return f[i]
}
