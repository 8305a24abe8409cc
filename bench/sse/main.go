// Command sse measures the live layer: N concurrent subscribers to one
// forum thread's event stream while replies are posted at a fixed rate.
// It prints, last, the delivery latency from just before each reply's
// POST (so the commit is inside the measured time) to its receipt at every
// subscriber (p50, p99 and max over every delivery, and their spread over
// the phase's rounds), what was lost or duplicated, and the hub's own
// counts: streams open, cut (a subscriber that could not keep up, which
// then resumes from Last-Event-ID), writes and coalesced writes (one
// write carrying several events, for a writer that fell behind). It runs
// two phases: healthy subscribers, then the same with one more subscriber
// that never reads, which must change nothing for the others and show up
// as a cut. Beside them: the replies' POST round trip (inside the
// latency), CPU per event (server, PostgreSQL, generator) and memory per
// connection. On a machine shared with other work the latency moves with
// the neighbours' load (the load average is printed); CPU per delivery
// moves much less.
//
// -burn keeps one core busy with a CPU burner process for the whole run.
//
// The server (the real handlers, live hub and PostgreSQL) runs in this
// process; the load generator re-executes this binary with -role=gen, in
// its own process (each has its own open-file limit). Loopback only.
//
//	go run ./bench/sse -subscribers 10000 -rate 10 -duration 20s [-burn]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	Role        string
	Subscribers int
	Rate        int
	Duration    time.Duration
	Fast        bool
	Burn        bool
	// generator only
	Addr, Thread, Email, Password string
}

func main() {
	var o options
	flag.StringVar(&o.Role, "role", "server", "server (default), gen (the load generator) or burn (the CPU burner); the server starts the others")
	flag.IntVar(&o.Subscribers, "subscribers", 10000, "concurrent subscribers to the thread")
	flag.IntVar(&o.Rate, "rate", 10, "replies per second")
	flag.DurationVar(&o.Duration, "duration", 20*time.Second, "posting time per phase")
	flag.BoolVar(&o.Fast, "fast", false, "fsync off in the private PostgreSQL")
	flag.BoolVar(&o.Burn, "burn", false, "keep one core busy with a CPU burner during the run")
	flag.StringVar(&o.Addr, "addr", "", "server address (gen)")
	flag.StringVar(&o.Thread, "thread", "", "thread id (gen)")
	flag.StringVar(&o.Email, "email", "", "login (gen)")
	flag.StringVar(&o.Password, "password", "", "password (gen)")
	flag.Parse()
	var err error
	switch o.Role {
	case "gen":
		err = generate(o)
	case "burn":
		burn()
	default:
		err = serve(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/sse:", err)
		os.Exit(1)
	}
}

// burn spins on one thread until it is killed: another program keeping a
// core busy on the machine.
func burn() {
	runtime.GOMAXPROCS(1)
	x := 0
	for {
		x++
	}
}

// startBurner starts the burner process; stop kills it and returns the
// CPU time it got.
func startBurner() (stop func() time.Duration, err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-role=burn")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() time.Duration {
		used := procCPU(cmd.Process.Pid)
		cmd.Process.Kill()
		cmd.Wait()
		return used
	}, nil
}

// procCPU is a process's user+system time from /proc.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// memory is the process's resident set and Go's live heap and stacks.
type memory struct{ RSS, Live, Stack, Goroutines uint64 }

func measure() memory {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memory{Live: ms.HeapInuse + ms.StackInuse, Stack: ms.StackInuse, Goroutines: uint64(runtime.NumGoroutine())}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			m.RSS = pages * uint64(os.Getpagesize())
		}
	}
	return m
}

// cpuTime is this process's user+system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the one-minute load average: how busy the machine was.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
