package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/workflow"
)

// crashOptions shape the crash loop: threads opened in Support while
// worker processes are killed with SIGKILL, each restarted at once.
type crashOptions struct {
	threads int
	kills   int
	every   time.Duration // between kills
	settle  time.Duration // how long, after the last kill, every run has to end
	logf    func(format string, args ...any)
}

// crashReport is what the crash loop found.
type crashReport struct {
	threads, kills int
	// midStep counts kills that caught the victim running an agent
	// step's execution (its agent.execute directive job).
	midStep int
	// rerun counts executions that had to run again: an attempt a kill
	// cut short.
	rerun int
	// retried counts runs retried from their failed step: their agent
	// step's execution lost both its attempts to kills.
	retried int
	// settled is the time from the last kill until every run had ended.
	settled  time.Duration
	problems []string
}

// runCrash opens the threads spread over the kill period and kills a
// worker every o.every (the workers in turn, or whichever first holds an
// agent step's job), so the kills land mid-step; then it waits for every
// run to end and checks what the runs did.
func runCrash(ctx context.Context, r *rig, o crashOptions) (crashReport, error) {
	rep := crashReport{threads: o.threads}
	spacing := time.Duration(o.kills) * o.every / time.Duration(max(o.threads, 1))
	var wg sync.WaitGroup
	var openErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range o.threads {
			if _, _, err := r.thread(ctx, fmt.Sprintf("Crash question %d", i+1)); err != nil {
				openErr = err
				return
			}
			time.Sleep(spacing)
		}
	}()
	var last time.Time
	for i := 0; i < o.kills && ctx.Err() == nil; i++ {
		time.Sleep(o.every)
		victim, caught := busyWorker(ctx, r, i, 5*time.Second)
		if caught {
			rep.midStep++
		}
		// Somewhere inside the step, not always at its first byte.
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
		victim.kill9()
		rep.kills++
		last = time.Now()
		o.logf("kill %d/%d: %s", i+1, o.kills, victim.name)
		if err := victim.start(); err != nil {
			return rep, fmt.Errorf("restart %s: %w", victim.name, err)
		}
	}
	wg.Wait()
	if openErr != nil {
		return rep, openErr
	}
	o.logf("waiting up to %s for every run to end (a killed worker's jobs are rescued after their heartbeat timeout)", o.settle)
	if err := r.settle(ctx, o.settle); err != nil {
		rep.problems = append(rep.problems, err.Error()+"\nruns not ended:"+stuckRuns(ctx, r))
		return rep, nil
	}
	// The engine gives an execution two attempts: a run whose agent step
	// lost both to kills has failed, and an operator retries it from its
	// page. So does the loop, then waits again.
	var err error
	if rep.retried, err = retryGaveUp(ctx, r); err != nil {
		return rep, err
	}
	if rep.retried > 0 {
		o.logf("retrying %d runs whose execution lost both attempts to kills", rep.retried)
		if err := r.settle(ctx, o.settle); err != nil {
			rep.problems = append(rep.problems, "after the retries: "+err.Error()+"\nruns not ended:"+stuckRuns(ctx, r))
			return rep, nil
		}
	}
	rep.settled = time.Since(last)
	return rep, check(ctx, r, &rep)
}

// busyWorker waits, up to limit, for a worker running an agent step's
// execution (its agent.execute directive job), the workers in turn from
// the i-th; it returns that worker, or the i-th when none was caught.
func busyWorker(ctx context.Context, r *rig, i int, limit time.Duration) (*worker, bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for k := range r.workers {
			w := r.workers[(i+k)%len(r.workers)]
			var n int
			err := r.st.DB.GetContext(ctx, &n, r.tn.SQL(`SELECT count(*) FROM jobs j
				JOIN {tenant}.directives d ON d.id::text = j.args->>'id' AND d.name = 'agent.execute'
				WHERE j.state = 'running' AND j.kind = 'directive.execute' AND j.tenant_schema = $1 AND j.attempted_by LIKE $2`),
				r.tn.Schema(), fmt.Sprintf("%%:%d:%%", w.pid()))
			if err == nil && n > 0 {
				return w, true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return r.workers[i%len(r.workers)], false
}

// The checks: each query counts what breaks one promise; every count
// must be 0. Runs are the workflow's ($1), threads are Support's ($2, or
// $1 in a check of posts alone). Each joins grouped counts, so checking
// thousands of runs takes a moment, not a scan per run.
var crashChecks = []struct {
	what, sql string
	postsOnly bool // about Support's posts alone: $1 is the category
}{
	{"threads without exactly one run", `SELECT count(*) FROM {tenant}.forum_threads th
		LEFT JOIN (SELECT trigger->>'thread_id' AS thread, count(*) AS n FROM {tenant}.workflow_runs WHERE workflow_id = $1 GROUP BY 1) r
		ON r.thread = th.id::text WHERE th.category_id = $2 AND coalesce(r.n, 0) <> 1`, false},
	{"runs that did not succeed", `SELECT count(*) FROM {tenant}.workflow_runs WHERE workflow_id = $1 AND status <> 'succeeded'`, false},
	{"runs that did not end exactly once a try (workflow.run.succeeded|failed|canceled, one more per workflow.run.retried)", `SELECT count(*)
		FROM {tenant}.workflow_runs wr LEFT JOIN (SELECT subject_id, count(*) FILTER (WHERE name <> 'workflow.run.retried') AS ended,
			count(*) FILTER (WHERE name = 'workflow.run.retried') AS retried FROM {tenant}.signals
			WHERE name IN ('workflow.run.succeeded', 'workflow.run.failed', 'workflow.run.canceled', 'workflow.run.retried') GROUP BY 1) s
		ON s.subject_id = wr.id::text WHERE wr.workflow_id = $1 AND coalesce(s.ended, 0) <> 1 + coalesce(s.retried, 0)`, false},
	{"threads without exactly one agent post", `SELECT count(*) FROM {tenant}.forum_threads th
		LEFT JOIN (SELECT thread_id, count(*) AS n FROM {tenant}.forum_posts WHERE author_type = 'agent' GROUP BY 1) p
		ON p.thread_id = th.id WHERE th.category_id = $1 AND coalesce(p.n, 0) <> 1`, true},
	{"agent posts not linked to their run's draft execution", `SELECT count(*) FROM {tenant}.forum_posts p
		JOIN {tenant}.forum_threads th ON th.id = p.thread_id AND th.category_id = $2
		LEFT JOIN {tenant}.workflow_steps ws ON ws.execution_id = p.execution_id AND ws.step_id = 'draft'
		LEFT JOIN {tenant}.workflow_runs wr ON wr.id = ws.run_id AND wr.workflow_id = $1
		WHERE p.author_type = 'agent' AND (wr.id IS NULL OR wr.trigger->>'thread_id' <> th.id::text)`, false},
	// A step's attempt counts its tries (1 once it ran, one more per
	// retry): each try made one execution or directive, however often a
	// kill cut its execution short.
	{"agent steps whose attempts made other than one execution each", `SELECT count(*) FROM {tenant}.workflow_steps ws
		JOIN {tenant}.workflow_runs wr ON wr.id = ws.run_id AND wr.workflow_id = $1
		LEFT JOIN (SELECT cause_id, count(*) AS n FROM {tenant}.agent_executions WHERE cause_type = 'workflow_step' GROUP BY 1) e
		ON e.cause_id = wr.id::text || '/' || ws.step_id
		WHERE ws.kind = 'agent' AND (coalesce(e.n, 0) <> ws.attempt OR ws.attempt < 1)`, false},
	{"directive steps whose attempts made other than one directive each", `SELECT count(*) FROM {tenant}.workflow_steps ws
		JOIN {tenant}.workflow_runs wr ON wr.id = ws.run_id AND wr.workflow_id = $1
		LEFT JOIN (SELECT regexp_replace(idempotency_key, ':[0-9]+$', '') AS step, count(*) AS n FROM {tenant}.directives
			WHERE idempotency_key LIKE 'wfstep:%' GROUP BY 1) d ON d.step = 'wfstep:' || wr.id || ':' || ws.step_id
		WHERE ws.kind = 'directive' AND (coalesce(d.n, 0) <> ws.attempt OR ws.attempt < 1)`, false},
	{"steps started other than once a try, or succeeded other than once (workflow.step.started, .succeeded)", `SELECT count(*) FROM {tenant}.workflow_steps ws
		JOIN {tenant}.workflow_runs wr ON wr.id = ws.run_id AND wr.workflow_id = $1
		LEFT JOIN (SELECT subject_id, payload->>'step_id' AS step, count(*) FILTER (WHERE name = 'workflow.step.started') AS started,
			count(*) FILTER (WHERE name = 'workflow.step.succeeded') AS succeeded
			FROM {tenant}.signals WHERE name IN ('workflow.step.started', 'workflow.step.succeeded') GROUP BY 1, 2) s
		ON s.subject_id = wr.id::text AND s.step = ws.step_id
		WHERE coalesce(s.started, 0) <> ws.attempt OR coalesce(s.succeeded, 0) <> 1`, false},
	{"agent posts announced other than once (forum.post.created)", `SELECT count(*) FROM {tenant}.forum_posts p
		JOIN {tenant}.forum_threads th ON th.id = p.thread_id AND th.category_id = $1
		LEFT JOIN (SELECT subject_id, count(*) AS n FROM {tenant}.signals WHERE name = 'forum.post.created' GROUP BY 1) s
		ON s.subject_id = p.id::text WHERE p.author_type = 'agent' AND coalesce(s.n, 0) <> 1`, true},
}

// check runs crashChecks, counts the executions run again, and notes any
// worker that exited by itself.
func check(ctx context.Context, r *rig, rep *crashReport) error {
	for _, c := range crashChecks {
		args := []any{r.wfID, r.cat}
		switch {
		case c.postsOnly:
			args = []any{r.cat}
		case !strings.Contains(c.sql, "$2"):
			args = args[:1]
		}
		var n int
		if err := r.st.DB.GetContext(ctx, &n, r.tn.SQL(c.sql), args...); err != nil {
			return fmt.Errorf("check %q: %w", c.what, err)
		}
		if n != 0 {
			rep.problems = append(rep.problems, fmt.Sprintf("%d %s", n, c.what))
		}
	}
	if err := r.st.DB.GetContext(ctx, &rep.rerun, r.tn.SQL(`SELECT count(*) FROM {tenant}.agent_executions
		WHERE cause_type = 'workflow_step' AND attempt > 1`)); err != nil {
		return err
	}
	for _, w := range r.workers {
		if n := w.crashes(); n > 0 {
			rep.problems = append(rep.problems, fmt.Sprintf("%s exited by itself %d times:\n%s", w.name, n, w.logTail(30)))
		}
	}
	return nil
}

// retryGaveUp retries, as an operator would from the run page, the runs
// that failed because an agent step's execution gave up (each of its
// attempts died with its worker); it returns how many.
func retryGaveUp(ctx context.Context, r *rig) (int, error) {
	var ids []string
	if err := r.st.DB.SelectContext(ctx, &ids, r.tn.SQL(`SELECT wr.id FROM {tenant}.workflow_runs wr WHERE wr.workflow_id = $1
		AND wr.status = 'failed' AND EXISTS (SELECT 1 FROM {tenant}.workflow_steps ws JOIN {tenant}.agent_executions e ON e.id = ws.execution_id
			WHERE ws.run_id = wr.id AND ws.status = 'failed' AND e.error LIKE 'The run stopped before it finished%')`), r.wfID); err != nil {
		return 0, err
	}
	flows := workflow.New(r.st, func() *directive.Engine { return nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, id := range ids {
		if err := flows.Retry(ctx, r.tn, id, r.userID); err != nil {
			return 0, fmt.Errorf("retry run %s: %w", id, err)
		}
	}
	return len(ids), nil
}

func (rep crashReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d threads, %d × kill -9 (%d mid-step), %d executions run again after a kill, %d runs retried (an execution lost both attempts); every run ended %s after the last kill",
		rep.threads, rep.kills, rep.midStep, rep.rerun, rep.retried, rep.settled.Round(100*time.Millisecond))
	if len(rep.problems) == 0 {
		b.WriteString("; every run succeeded, ended once a try, one agent post per thread, one execution or directive per step try")
	}
	for _, p := range rep.problems {
		b.WriteString("\n  PROBLEM: " + p)
	}
	return b.String()
}
