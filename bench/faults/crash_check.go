package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lib/pq"
)

// report waits for the platform to settle (no directive requested or
// running in the crash tenants), then compares the database with what
// the load was told.
func (cl *crashLoop) report(ctx context.Context) (crashReport, error) {
	r := crashReport{kills: cl.kills, midJob: cl.midJob, serveKills: cl.serveK, statuses: cl.statuses, resends: cl.resends.Load()}
	schemas, err := cl.d.schemas(ctx, "crash")
	if err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "crash loop: waiting up to %s for every directive to end…\n", cl.opt.settle)
	deadline := cl.lastKill.Add(cl.opt.settle)
	for {
		open, err := cl.d.sumOver(ctx, schemas, `SELECT count(*) FROM {s}.directives WHERE status IN ('requested', 'running')`)
		if err != nil {
			return r, err
		}
		r.open = open
		if open == 0 {
			r.settled, r.settledOK = time.Since(cl.lastKill), true
			break
		}
		if time.Now().After(deadline) {
			r.settled = time.Since(cl.lastKill)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r.open > 0 {
		r.stuck = cl.stuckJobs(ctx)
	}
	if err := cl.waitSubscribers(ctx, schemas, 20*time.Second); err != nil {
		return r, err
	}
	if err := cl.countDirectives(ctx, schemas, &r); err != nil {
		return r, err
	}
	if err := cl.countDuplicates(ctx, schemas, &r); err != nil {
		return r, err
	}
	if err := cl.countAcknowledged(ctx, schemas, &r); err != nil {
		return r, err
	}
	_, r.unexpectedExits = cl.f.unexpectedExits()
	return r, nil
}

// stuckJobs says where the directives still open are: their jobs, by
// state, and how many run on a process that is gone (they wait for the
// rescue).
func (cl *crashLoop) stuckJobs(ctx context.Context) string {
	var rows []struct {
		State string  `db:"state"`
		By    string  `db:"by"`
		Age   float64 `db:"age"`
	}
	if err := cl.d.db.SelectContext(ctx, &rows, `SELECT state, coalesce(attempted_by, '') AS by,
		coalesce(extract(epoch FROM now() - attempted_at), 0)::float8 AS age
		FROM jobs WHERE kind = 'directive.execute' AND state NOT IN ('completed', 'discarded', 'cancelled')`); err != nil {
		return err.Error()
	}
	states := map[string]int{}
	dead, oldest := 0, 0.0
	for _, x := range rows {
		states[x.State]++
		if x.State == "running" && !alive(x.By) {
			dead++
			oldest = max(oldest, x.Age)
		}
	}
	return fmt.Sprintf("their jobs: %s; %d running on a killed process (attempt began up to %.0f s ago), waiting for the rescue",
		sortedCounts(states), dead, oldest)
}

// alive reports whether the process a runner id (host:pid:random) names
// still runs.
func alive(runnerID string) bool {
	parts := strings.Split(runnerID, ":")
	if len(parts) < 3 {
		return false
	}
	_, err := os.Stat("/proc/" + parts[len(parts)-2])
	return err == nil
}

func (cl *crashLoop) countDirectives(ctx context.Context, schemas []string, r *crashReport) error {
	r.directives = map[string]int{}
	for _, s := range schemas {
		var rows []struct {
			Status string `db:"status"`
			N      int    `db:"n"`
		}
		if err := cl.d.db.SelectContext(ctx, &rows, `SELECT status, count(*) AS n FROM `+pq.QuoteIdentifier(s)+`.directives GROUP BY status`); err != nil {
			return err
		}
		for _, x := range rows {
			r.directives[x.Status] += x.N
		}
	}
	return nil
}

// Each query returns how many rows are one too many.
const (
	// A package's agents beyond the number it ships.
	dupAgentsSQL = `SELECT coalesce(sum(n - want), 0) FROM (
		SELECT count(*) AS n, (SELECT jsonb_array_length(p.includes->'agents') FROM public.packages p WHERE p.slug = a.package_slug) AS want
		FROM {s}.agents a WHERE a.package_slug IS NOT NULL AND a.archived_at IS NULL GROUP BY a.package_slug) x WHERE n > want`
	dupInstallationsSQL = `SELECT count(*) - count(DISTINCT package_slug) FROM {s}.package_installations`
	dupDirectiveKeysSQL = `SELECT count(idempotency_key) - count(DISTINCT idempotency_key) FROM {s}.directives`
	// A directive's signals other than directive.started (one per attempt)
	// appear once each.
	dupSignalsSQL = `SELECT coalesce(sum(n - 1), 0) FROM (
		SELECT count(*) AS n FROM {s}.signals s JOIN {s}.directives d ON d.id = s.correlation_id
		WHERE s.name <> 'directive.started' GROUP BY s.correlation_id, s.name HAVING count(*) > 1) x`
	extraStartsSQL = `SELECT count(*) FROM {s}.directives d
		WHERE (SELECT count(*) FROM {s}.signals s WHERE s.correlation_id = d.id AND s.name = 'directive.started') > d.attempt`
)

func (cl *crashLoop) countDuplicates(ctx context.Context, schemas []string, r *crashReport) error {
	var err error
	for _, q := range []struct {
		into *int
		sql  string
	}{
		{&r.dupAgents, dupAgentsSQL}, {&r.dupInstallations, dupInstallationsSQL}, {&r.dupDirectiveKeys, dupDirectiveKeysSQL},
		{&r.dupSignals, dupSignalsSQL}, {&r.extraStarts, extraStartsSQL},
	} {
		if *q.into, err = cl.d.sumOver(ctx, schemas, q.sql); err != nil {
			return err
		}
	}
	return cl.countActivity(ctx, schemas, r)
}

// countActivity checks the activity subscriber's effect once per signal:
// its daily counts add up to the tenant's signals up to its cursor.
func (cl *crashLoop) countActivity(ctx context.Context, schemas []string, r *crashReport) error {
	for _, s := range schemas {
		var x struct {
			Counted int64 `db:"counted"`
			Signals int64 `db:"signals"`
			Behind  int64 `db:"behind"`
		}
		q := strings.ReplaceAll(`SELECT
			(SELECT coalesce(sum(count), 0) FROM {s}.activity_daily) AS counted,
			(SELECT count(*) FROM {s}.signals WHERE name NOT LIKE 'chat.%' AND seq <= coalesce(c.seq, 0)) AS signals,
			(SELECT count(*) FROM {s}.signals WHERE seq > coalesce(c.seq, 0)) AS behind
			FROM (SELECT max(seq) AS seq FROM public.signal_cursors WHERE subscriber = 'activity.daily' AND tenant_schema = $1) c`,
			"{s}", pq.QuoteIdentifier(s))
		if err := cl.d.db.GetContext(ctx, &x, q, s); err != nil {
			return fmt.Errorf("activity of %s: %w", s, err)
		}
		r.activityExtra += int(x.Counted - x.Signals)
		r.activityBehind += int(x.Behind)
	}
	return nil
}

// waitSubscribers waits for the activity subscriber to reach every crash
// tenant's latest signal.
func (cl *crashLoop) waitSubscribers(ctx context.Context, schemas []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var r crashReport
		if err := cl.countActivity(ctx, schemas, &r); err != nil {
			return err
		}
		if r.activityBehind == 0 || time.Now().After(deadline) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// countAcknowledged looks for every reply and form that got its 303: the
// post with that text, the directive with that key.
func (cl *crashLoop) countAcknowledged(ctx context.Context, schemas []string, r *crashReport) error {
	posts := map[string]int{}
	keys := map[string]bool{}
	for _, s := range schemas {
		var rows []struct {
			Content string `db:"content"`
			N       int    `db:"n"`
		}
		if err := cl.d.db.SelectContext(ctx, &rows, `SELECT content, count(*) AS n FROM `+pq.QuoteIdentifier(s)+
			`.forum_posts WHERE content LIKE 'fault-reply %' GROUP BY content`); err != nil {
			return err
		}
		for _, x := range rows {
			posts[x.Content] = x.N
		}
		var ks []string
		if err := cl.d.db.SelectContext(ctx, &ks, `SELECT idempotency_key FROM `+pq.QuoteIdentifier(s)+`.directives WHERE idempotency_key IS NOT NULL`); err != nil {
			return err
		}
		for _, k := range ks {
			keys[k] = true
		}
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for body, rec := range cl.replies {
		n := posts[body]
		if rec.acked {
			r.ackedReplies++
			if n == 0 {
				r.missingReplies++
			}
		}
		if n > 1 {
			r.dupPosts += n - 1
			if rec.double {
				r.dupPostsDoubled += n - 1
			}
		}
	}
	for key, rec := range cl.forms {
		if rec.acked {
			r.ackedForms++
			if !keys[key] {
				r.missingForm++
			}
		}
	}
	return nil
}

func (r crashReport) duplicates() int {
	return r.dupAgents + r.dupInstallations + r.dupPosts + r.dupSignals + r.extraStarts + r.dupDirectiveKeys + max(r.activityExtra, 0)
}

func (r crashReport) print() {
	fmt.Println("== crash loop ==")
	fmt.Printf("kills: %d × kill -9 (%d of serve), %d of them while the victim ran a directive\n", r.kills, r.serveKills, r.midJob)
	fmt.Printf("load answers: %s; forms resent after an error: %d\n", sortedCounts(r.statuses), r.resends)
	fmt.Printf("directives: %s; still requested/running: %d\n", sortedCounts(r.directives), r.open)
	if r.settledOK {
		fmt.Printf("settled: every directive ended %.1f s after the last kill\n", r.settled.Seconds())
	} else {
		fmt.Printf("settled: NO — %d directives still requested/running %.1f s after the last kill (waited that long; -settle raises it)\n", r.open, r.settled.Seconds())
		fmt.Printf("  %s\n", r.stuck)
		fmt.Printf("  (a job counts as dead only after the runner's RescueAfter, today JobTimeout + 1 min = 6 min, checked by cron every minute: issue 14's defect 11, heartbeats with a 15 s rescue)\n")
	}
	fmt.Printf("duplicates: agents per package install %d, posts per reply form %d (%d of them from forms sent twice on purpose), installations %d, directives per idempotency key %d, signals per directive %d (+%d directives with more starts than attempts), activity counts beyond signals %d\n",
		r.dupAgents, r.dupPosts, r.dupPostsDoubled, r.dupInstallations, r.dupDirectiveKeys, r.dupSignals, r.extraStarts, r.activityExtra)
	if r.activityBehind > 0 {
		fmt.Printf("  (the activity subscriber was still %d signals behind when counted)\n", r.activityBehind)
	}
	fmt.Printf("acknowledged but missing: replies %d of %d acknowledged, install/uninstall forms %d of %d acknowledged\n",
		r.missingReplies, r.ackedReplies, r.missingForm, r.ackedForms)
	if len(r.unexpectedExits) > 0 {
		fmt.Printf("processes that exited by themselves: %s\n", strings.Join(r.unexpectedExits, ", "))
	}
}
