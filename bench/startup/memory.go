package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memory is what a set of processes keeps resident, in KiB. RSS counts a
// shared page in full for every process that maps it, so summed over
// PostgreSQL's processes (which all map shared_buffers) it overstates;
// PSS divides each shared page among its mappers, so PSS sums add up to
// what the processes really occupy.
type memory struct {
	procs    int
	rss, pss int64
}

func (m memory) add(o memory) memory {
	return memory{procs: m.procs + o.procs, rss: m.rss + o.rss, pss: m.pss + o.pss}
}

func (m memory) String() string {
	return fmt.Sprintf("RSS %.1f MiB, PSS %.1f MiB", mib(m.rss), mib(m.pss))
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// processMemory reads one process's totals from /proc/<pid>/smaps_rollup.
func processMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	m := memory{procs: 1}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var kib int64
		fmt.Sscanf(strings.TrimSpace(rest), "%d", &kib)
		switch name {
		case "Rss":
			m.rss = kib
		case "Pss":
			m.pss = kib
		}
	}
	return m, sc.Err()
}

// postgresMemory sums the embedded server's postmaster (its pid is the
// first line of postmaster.pid in the cluster directory) and every child
// of it: backends, checkpointer, WAL writer and the rest.
func postgresMemory(clusterDir string) (memory, error) {
	b, err := os.ReadFile(filepath.Join(clusterDir, "postmaster.pid"))
	if err != nil {
		return memory{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return memory{}, fmt.Errorf("postmaster.pid: %w", err)
	}
	total, err := processMemory(pm)
	if err != nil {
		return memory{}, err
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if pid == pm || parentPID(p) != pm {
			continue
		}
		if m, err := processMemory(pid); err == nil { // a backend may just have exited
			total = total.add(m)
		}
	}
	return total, nil
}

// parentPID reads the ppid from a /proc/<pid>/stat file (0 if unreadable).
func parentPID(statPath string) int {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return 0
	}
	// pid (comm) state ppid …: the command may contain spaces and parens.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}
