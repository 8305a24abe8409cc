package main

import (
	"context"
	"fmt"
	"time"

	"fleetprompt/handlers"
	"fleetprompt/store"
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
	// A server of its own with a posting limit, so that every reply pays
	// the check it pays in the app (the site's servers have it off). The
	// users here post ~15 replies a second each: per second, the check
	// reads about as many of their posts as the default (10 a minute)
	// reads of a person's.
	limited, err := b.site.Serve(handlers.Config{ForumPostLimit: store.PostLimit{Posts: 100, Per: time.Second}})
	if err != nil {
		return "", err
	}
	var s side
	p := plan{Duration: b.cfg.dur, ReplyShare: 1}
	for _, ck := range b.viewers {
		p.Conns = append(p.Conns, conn{Reply: limited + b.threadPath() + "/replies", Cookie: ck})
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
	behindAtEnd, err := b.subscribersBehind()
	if err != nil {
		return "", err
	}
	start := time.Now()
	left, behind := int64(-1), -1
	for time.Since(start) < time.Minute {
		if behind, err = b.subscribersBehind(); err != nil {
			return "", err
		}
		if left, err = b.jobsQueued(); err != nil {
			return "", err
		}
		if left == 0 && behind == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	drain := time.Since(start)
	s.line("app")
	n := len(s.writes)
	withJobs := float64(n) / (s.elapsed + drain).Seconds()
	fmt.Printf("  %d jobs finished during the run; %d subscribers behind at its end; queue and subscribers drained %v after it (%d jobs, %d subscribers left)\n",
		during-before, behindAtEnd, drain.Round(time.Millisecond), left, behind)
	fmt.Printf("  replies %.0f/s (target ≥ 1,000); %.0f/s counting until their jobs were done\n", s.rps(), withJobs)
	return fmt.Sprintf("  %-8s %6.0f/s with the job runner working (target ≥ 1,000), %.0f/s with their jobs done; p99 %.1f ms  CPU/reply %4.0f + %3.0f µs",
		"replies", s.rps(), withJobs, ms(percentile(s.writes, .99)), perRequest(s.cpuServer, n), perRequest(s.cpuDB, n)), nil
}

// subscribersBehind counts the signal subscribers that have a signal they
// want in the tenant's log past their cursor: their work is the replies'
// work as much as the jobs' is.
func (b *bench) subscribersBehind() (int, error) {
	ctx, st, t := context.Background(), b.site.Store, b.site.Tenant
	cursors, err := st.SignalCursors(ctx, t.Schema())
	if err != nil {
		return 0, err
	}
	at := map[string]int64{}
	for _, c := range cursors {
		at[c.Subscriber] = c.Seq
	}
	head, err := st.SignalHead(ctx, st.DB, t)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sub := range b.site.Platform.Signals().Subscribers() {
		next, err := st.SignalsMatching(ctx, st.DB, t, sub.Signals, at[sub.Name], head, 1)
		if err != nil {
			return 0, err
		}
		if len(next) > 0 {
			n++
		}
	}
	return n, nil
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
