// Command notify measures what a thread's starter meets when someone
// replies: the time from just before the reply's POST (so its commit, the
// notifications subscriber and the live hub are all inside) to the
// starter's header badge event (notification.created on their own "me"
// stream), with -users people each on a page with the badge open (one SSE
// connection each, distinct users, distinct streams), each the starter
// of one thread. A replier posts -replies replies, round-robin over the
// threads, at -rate per second; each reply notifies exactly one open page
// (the starter's), and the other pages stay open beside it.
//
// The server (the real handlers, live hub, app platform with its signal
// subscribers, PostgreSQL) and the clients run in this one process, over
// loopback. On a machine shared with other work the latency moves with
// the neighbours' load (the load average is printed).
//
//	go run ./bench/notify -users 1000 -replies 1200 -rate 20
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"fleetprompt/bench/benchsite"
)

type options struct {
	Users, Replies, Rate int
	Fast                 bool
}

func main() {
	var o options
	flag.IntVar(&o.Users, "users", 1000, "people with a page open (one SSE connection each), each a thread's starter")
	flag.IntVar(&o.Replies, "replies", 1200, "replies posted (samples)")
	flag.IntVar(&o.Rate, "rate", 20, "replies per second")
	flag.BoolVar(&o.Fast, "fast", false, "fsync off in the private PostgreSQL")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/notify:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	site, err := benchsite.Start(ctx, benchsite.Options{Fast: o.Fast, MaxConns: 60, Workers: 4})
	if err != nil {
		return err
	}
	defer site.Close()
	t0 := time.Now()
	people, err := seedPeople(ctx, site, o.Users)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeded %d people and threads in %.1fs\n", len(people), time.Since(t0).Seconds())
	t0 = time.Now()
	if err := openPages(ctx, site, people); err != nil {
		return err
	}
	for deadline := time.Now().Add(time.Minute); site.Hub.Subscribers() < o.Users && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "%d pages open (hub: %d streams) in %.1fs\n", len(people), site.Hub.Subscribers(), time.Since(t0).Seconds())
	res, err := reply(ctx, site, people, o)
	if err != nil {
		return err
	}
	report(o, site.Durable, res)
	return nil
}

// result is the replies' outcome: each badge's latency, and what never
// arrived.
type result struct {
	Latencies, Posts []time.Duration
	Lost, Wrong      int
}

func report(o options, durable bool, r result) {
	durability := "durable (fsync on)"
	if !durable {
		durability = "fsync off"
	}
	fmt.Printf("\nbench/notify: %d pages open (distinct users, topic me), %d replies at %d/s, PostgreSQL %s, GOMAXPROCS %d\n",
		o.Users, o.Replies, o.Rate, durability, runtime.GOMAXPROCS(0))
	fmt.Printf("reply → starter's badge: samples %d  p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms  lost %d  to the wrong page %d\n",
		len(r.Latencies), ms(pct(r.Latencies, 50)), ms(pct(r.Latencies, 90)), ms(pct(r.Latencies, 99)), ms(pct(r.Latencies, 100)), r.Lost, r.Wrong)
	fmt.Printf("reply POST (inside the above): p50 %.1f ms  p99 %.1f ms  (load average %s)\n",
		ms(pct(r.Posts, 50)), ms(pct(r.Posts, 99)), loadAverage())
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
