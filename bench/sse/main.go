// Command sse measures the live layer: N concurrent subscribers to one
// forum thread's event stream while replies are posted at a fixed rate.
// It prints, last, the delivery latency from just before each reply's
// POST (so the commit is inside the measured time) to its receipt at every
// subscriber, what was lost, and the server's memory per connection, once
// without and once with a subscriber that has stopped reading. Beside
// them: the replies' POST round trip (inside the latency), and the CPU
// time per delivery of the server and of the generator. On a machine
// shared with other work the latency moves with the neighbours' load (the
// load average is printed); CPU per delivery does not.
//
// The server (the real handlers, live hub and PostgreSQL) runs in this
// process; the load generator re-executes this binary with -role=gen, in
// its own process (each has its own open-file limit). Loopback only.
//
//	go run ./bench/sse -subscribers 10000 -rate 10 -duration 20s
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fleetprompt/bench/benchsite"
)

type options struct {
	Role        string
	Subscribers int
	Rate        int
	Duration    time.Duration
	Fast        bool
	// generator only
	Addr, Thread, Email, Password string
}

func main() {
	var o options
	flag.StringVar(&o.Role, "role", "server", "server (default) or gen (the load generator, started by the server)")
	flag.IntVar(&o.Subscribers, "subscribers", 10000, "concurrent subscribers to the thread")
	flag.IntVar(&o.Rate, "rate", 10, "replies per second")
	flag.DurationVar(&o.Duration, "duration", 20*time.Second, "posting time per phase")
	flag.BoolVar(&o.Fast, "fast", false, "fsync off in the private PostgreSQL")
	flag.StringVar(&o.Addr, "addr", "", "server address (gen)")
	flag.StringVar(&o.Thread, "thread", "", "thread id (gen)")
	flag.StringVar(&o.Email, "email", "", "login (gen)")
	flag.StringVar(&o.Password, "password", "", "password (gen)")
	flag.Parse()
	var err error
	if o.Role == "gen" {
		err = generate(o)
	} else {
		err = serve(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/sse:", err)
		os.Exit(1)
	}
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

func serve(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	site, err := benchsite.Start(ctx, benchsite.Options{Fast: o.Fast, MaxConns: 40})
	if err != nil {
		return err
	}
	defer site.Close()
	before := measure()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "-role=gen", "-addr="+site.Addr, "-thread="+site.ThreadID,
		"-email="+site.Email, "-password="+site.Password, "-subscribers="+strconv.Itoa(o.Subscribers),
		"-rate="+strconv.Itoa(o.Rate), "-duration="+o.Duration.String())
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	var result genResult
	var mem memory
	var cpu0, cpu1 time.Duration
	for lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "READY"):
			// Every subscriber is connected: wait until the hub counts them
			// (the last ones may still be replaying), then measure.
			for deadline := time.Now().Add(time.Minute); site.Hub.Subscribers() < o.Subscribers && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			mem = measure()
			if p := os.Getenv("BENCH_HEAP_PROFILE"); p != "" {
				if f, err := os.Create(p); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
			fmt.Fprintf(os.Stderr, "server: %d subscribers, RSS %.1f MiB (was %.1f)\n", site.Hub.Subscribers(),
				float64(mem.RSS)/(1<<20), float64(before.RSS)/(1<<20))
			if p := os.Getenv("BENCH_CPU_PROFILE"); p != "" {
				if f, err := os.Create(p); err == nil {
					pprof.StartCPUProfile(f)
					defer pprof.StopCPUProfile()
				}
			}
			cpu0 = cpuTime()
			fmt.Fprintln(stdin, "GO")
		case strings.HasPrefix(line, "RESULT "):
			cpu1 = cpuTime()
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), &result); err != nil {
				return err
			}
		default:
			fmt.Fprintln(os.Stderr, "gen:", line)
		}
	}
	stdin.Close()
	if len(result.Phases) == 0 {
		return fmt.Errorf("the generator reported nothing")
	}
	n := float64(o.Subscribers)
	durability := "durable (fsync on)"
	if o.Fast {
		durability = "fsync off"
	}
	fmt.Printf("\nbench/sse: %d subscribers to one thread, %d replies/s for %v per phase, PostgreSQL %s, GOMAXPROCS %d\n",
		o.Subscribers, o.Rate, o.Duration, durability, runtime.GOMAXPROCS(0))
	fmt.Printf("connect: %d subscribers in %.1fs\n", result.Connected, result.ConnectSeconds)
	for _, p := range result.Phases {
		fmt.Printf("%-26s replies %4d  deliveries %8d/%-8d lost %d  latency p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (POST p50 %.1f ms, p99 %.1f ms)\n",
			p.Name+":", p.Replies, p.Received, p.Expected, p.Expected-p.Received, p.P50, p.P99, p.Max, p.PostP50, p.PostP99)
	}
	var delivered int64
	for _, p := range result.Phases {
		delivered += p.Received
	}
	if delivered > 0 {
		// Load-independent: on a machine shared with other work, latency
		// moves with the neighbours' load, CPU per delivery does not.
		fmt.Printf("CPU per delivery: server %.2f µs, generator %.2f µs (load average %s)\n",
			float64((cpu1-cpu0).Microseconds())/float64(delivered), result.CPUSeconds*1e6/float64(delivered), loadAverage())
	}
	fmt.Printf("server per connection: %.1f goroutines, %.1f KiB of them stacks\n",
		float64(int64(mem.Goroutines)-int64(before.Goroutines))/n, float64(int64(mem.Stack)-int64(before.Stack))/n/1024)
	fmt.Printf("server memory per connection: %.1f KiB RSS, %.1f KiB Go heap+stacks\n",
		float64(int64(mem.RSS)-int64(before.RSS))/n/1024, float64(int64(mem.Live)-int64(before.Live))/n/1024)
	return nil
}
