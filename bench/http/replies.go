package main

import (
	"context"
	"fmt"
	"time"
)

// measureReplies posts replies from every connection for the mode's
// duration with the app's platform working in this process (each reply's
// signal, and whatever subscribers app.NewPlatform
// registers), then waits for the queue to drain: the second figure counts
// the replies with all of their background work done.
func (b *bench) measureReplies() (string, error) {
	fmt.Printf("\nreplies: %d distinct users post replies to the thread (POST, 303), with the job runner (%d workers) in this process\n",
		len(b.viewers), b.cfg.workers)
	if err := b.analyze(); err != nil {
		return "", err
	}
	var s side
	p := plan{Duration: b.cfg.dur, ReplyShare: 1}
	for _, ck := range b.viewers {
		p.Conns = append(p.Conns, conn{Reply: b.site.URL + b.threadPath() + "/replies", Cookie: ck})
	}
	before, err := b.jobsFinished()
	if err != nil {
		return "", err
	}
	if err := b.measure(p, &s); err != nil {
		return "", err
	}
	during, err := b.jobsFinished()
	if err != nil {
		return "", err
	}
	start := time.Now()
	left := int64(-1)
	for time.Since(start) < time.Minute {
		if left, err = b.jobsQueued(); err != nil || left == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	drain := time.Since(start)
	s.line("app")
	n := len(s.writes)
	withJobs := float64(n) / (s.elapsed + drain).Seconds()
	fmt.Printf("  %d jobs finished during the run, queue drained %v after it (%d left)\n", during-before, drain.Round(time.Millisecond), left)
	fmt.Printf("  replies %.0f/s (target ≥ 1,000); %.0f/s counting until their jobs were done\n", s.rps(), withJobs)
	return fmt.Sprintf("  %-8s %6.0f/s with the job runner working (target ≥ 1,000), %.0f/s with their jobs done; p99 %.1f ms  CPU/reply %4.0f + %3.0f µs",
		"replies", s.rps(), withJobs, ms(percentile(s.writes, .99)), perRequest(s.cpuServer, n), perRequest(s.cpuDB, n)), nil
}

// jobsQueued counts the jobs of the tenant not finished yet.
func (b *bench) jobsQueued() (int64, error) {
	var n int64
	err := b.site.Store.DB.GetContext(context.Background(), &n,
		`SELECT count(*) FROM jobs WHERE tenant_schema = $1 AND state IN ('available', 'running')`, b.site.Tenant.Schema())
	return n, err
}

// jobsFinished counts the tenant's finished jobs (kept until cron prunes
// them; no cron runs here).
func (b *bench) jobsFinished() (int64, error) {
	var n int64
	err := b.site.Store.DB.GetContext(context.Background(), &n,
		`SELECT count(*) FROM jobs WHERE tenant_schema = $1 AND state IN ('completed', 'discarded')`, b.site.Tenant.Schema())
	return n, err
}
