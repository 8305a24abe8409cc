package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"fleetprompt/bench/benchsite"
	"fleetprompt/jobs"
	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
)

// Figure 3: N executions through the job runner, wired as the app wires
// it, against a fake provider answering in a few short chunks. It prints
// the throughput, then counts rows: every execution settled exactly
// once (one outcome signal each), the day's usage counts N executions,
// the agents' request counts add up to N. The interrupted pass stops the
// runner halfway with no grace (its in-flight runs are cut off and
// released, as when a worker is killed) and starts another: the provider
// is asked again for the cut-off runs, but no effect happens twice.

type runnerOpts struct {
	n, workers int
	interrupt  bool
}

type runnerPass struct {
	name           string
	requested, ran time.Duration
	asked          int // requests the provider received
	cpuSelf, cpuDB time.Duration
	check          runCheck
	restartedAfter int64 // runs completed when the runner was stopped
	jobRetries     int64
	jobsDiscarded  int64
}

// runCheck is what the rows say.
type runCheck struct {
	Executions   int   `db:"executions"`
	Settled      int   `db:"settled"`
	Succeeded    int   `db:"succeeded"`
	Outcomes     int   `db:"outcomes"`      // agent.execution.<outcome> signals
	OutcomeExecs int   `db:"outcome_execs"` // distinct executions among them
	Usage        int64 `db:"usage"`         // usage_daily.executions, summed
	Requests     int64 `db:"requests"`      // agents.request_count, summed
	DirectivesOK int   `db:"directives_ok"`
	ExecTokens   int64 `db:"exec_tokens"`
	UsageTokens  int64 `db:"usage_tokens"`
}

func runnerFigure(ctx context.Context, site *benchsite.Site, o runnerOpts) ([]runnerPass, error) {
	passes := []string{"steady"}
	if o.interrupt {
		passes = append(passes, "interrupted")
	}
	var out []runnerPass
	for _, name := range passes {
		p, err := runnerPassOf(ctx, site, o, name)
		if err != nil {
			return out, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func runnerPassOf(ctx context.Context, site *benchsite.Site, o runnerOpts, name string) (runnerPass, error) {
	p := runnerPass{name: name}
	org, err := newOrg(ctx, site.Store, "runs")
	if err != nil {
		return p, err
	}
	agents, err := activeAgents(ctx, site.Store, org, 4, "Worker")
	if err != nil {
		return p, err
	}
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		r := llmtest.Text("Done: ", "the ", "task ", "is ", "handled.")
		r.Delay = 2 * time.Millisecond
		return r
	})
	defer fake.Close()
	eng := agent.New(agent.Config{Store: site.Store, Logger: quietLog,
		LLM: llm.New(llm.Config{BaseURL: fake.BaseURL(), Model: "fake-model"})})
	dirs := directive.New(site.Store, quietLog, eng.Kinds()...)

	t0 := time.Now()
	if err := requestRuns(ctx, site.Store, org, agents, o.n); err != nil {
		return p, err
	}
	p.requested = time.Since(t0)

	w := newJobWatch(o.n)
	newRunner := func() *jobs.Runner {
		r := jobs.New(site.Store.DB, jobs.Config{DSN: site.DSN, MaxWorkers: o.workers, PollInterval: 50 * time.Millisecond,
			Tenants: []string{org.t.Schema()}, OnEventFunc: w.event, Logger: quietLog})
		dirs.RegisterJobs(r)
		return r
	}
	cpu := startCPU(site)
	t1 := time.Now()
	r := newRunner()
	if err := r.Start(ctx); err != nil {
		return p, err
	}
	if name == "interrupted" {
		for w.completed.Load() < int64(o.n/2) {
			time.Sleep(time.Millisecond)
		}
		p.restartedAfter = w.completed.Load()
		gone, cancel := context.WithCancel(ctx)
		cancel() // no grace: what runs now is cut off and released
		r.Stop(gone)
		if r = newRunner(); r.Start(ctx) != nil {
			return p, fmt.Errorf("restart the runner")
		}
	}
	err = w.wait(2 * time.Minute)
	p.ran = time.Since(t1)
	r.Stop(context.Background())
	if err != nil {
		return p, errors.Join(err, unfinished(ctx, site.Store, org))
	}
	p.cpuSelf, p.cpuDB = cpu.per(o.n)
	p.asked, p.jobRetries, p.jobsDiscarded = len(fake.Requests()), w.retried.Load(), w.discarded.Load()
	p.check, err = countRuns(ctx, site.Store, org)
	return p, err
}

// requestRuns queues n runs spread over the agents, from a few
// requesters at once (as people clicking Run would).
func requestRuns(ctx context.Context, st *store.Store, org benchOrg, agents []string, n int) error {
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 8 {
				if _, err := org.request(ctx, st, agents[i%len(agents)], fmt.Sprintf("Handle task %d, please.", i)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func countRuns(ctx context.Context, st *store.Store, org benchOrg) (runCheck, error) {
	var c runCheck
	err := st.DB.GetContext(ctx, &c, org.t.SQL(`SELECT
		(SELECT count(*) FROM {tenant}.agent_executions) AS executions,
		(SELECT count(*) FROM {tenant}.agent_executions WHERE settled_at IS NOT NULL) AS settled,
		(SELECT count(*) FROM {tenant}.agent_executions WHERE status = 'succeeded') AS succeeded,
		(SELECT count(*) FROM {tenant}.signals WHERE name IN ('agent.execution.succeeded', 'agent.execution.failed', 'agent.execution.canceled')) AS outcomes,
		(SELECT count(DISTINCT payload->>'execution_id') FROM {tenant}.signals
		  WHERE name IN ('agent.execution.succeeded', 'agent.execution.failed', 'agent.execution.canceled')) AS outcome_execs,
		(SELECT coalesce(sum(executions), 0) FROM {tenant}.usage_daily) AS usage,
		(SELECT coalesce(sum(request_count), 0) FROM {tenant}.agents) AS requests,
		(SELECT count(*) FROM {tenant}.directives WHERE name = 'agent.execute' AND status = 'succeeded') AS directives_ok,
		(SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM {tenant}.agent_executions) AS exec_tokens,
		(SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM {tenant}.usage_daily) AS usage_tokens`))
	return c, err
}

// ok reports whether every execution took effect exactly once.
func (c runCheck) ok(n int) bool {
	return c.Executions == n && c.Settled == n && c.Succeeded == n && c.Outcomes == n && c.OutcomeExecs == n &&
		c.Usage == int64(n) && c.Requests == int64(n) && c.DirectivesOK == n && c.ExecTokens == c.UsageTokens
}

func (p runnerPass) summary(o runnerOpts) string {
	c := p.check
	lost := o.n - c.Settled
	twice := (c.Outcomes - c.OutcomeExecs) + max(0, int(c.Usage)-c.Settled) + max(0, int(c.Requests)-c.Settled)
	s := fmt.Sprintf("agents runner (%s): %d executions, %d workers, in %v → %.0f executions/s (queued at %.0f/s); lost %d, twice %d: %s\n"+
		"  rows: %d executions, %d settled, %d succeeded; %d outcome signals for %d executions; usage counts %d runs and %d tokens "+
		"(the executions %d); the agents' request counts sum to %d; %d directives succeeded\n"+
		"  provider asked %d times; jobs retried %d, discarded %d; CPU per execution: this process %v, PostgreSQL %v",
		p.name, o.n, o.workers, r(p.ran), float64(o.n)/p.ran.Seconds(), float64(o.n)/p.requested.Seconds(), lost, twice,
		map[bool]string{true: "every execution settled exactly once", false: "MISMATCH"}[c.ok(o.n)],
		c.Executions, c.Settled, c.Succeeded, c.Outcomes, c.OutcomeExecs, c.Usage, c.UsageTokens, c.ExecTokens, c.Requests, c.DirectivesOK,
		p.asked, p.jobRetries, p.jobsDiscarded, r(p.cpuSelf), r(p.cpuDB))
	if p.restartedAfter > 0 {
		s += fmt.Sprintf("\n  the runner was stopped without grace after %d runs and another started: %d runs were asked of the provider again",
			p.restartedAfter, p.asked-o.n)
	}
	return s
}

// unfinished describes the jobs that never finished, and their runs.
func unfinished(ctx context.Context, st *store.Store, org benchOrg) error {
	var rows []string
	err := st.DB.SelectContext(ctx, &rows, org.t.SQL(`SELECT format('job %s %s attempt %s by %s at %s; directive %s; execution %s',
			j.id, j.state, j.attempt, coalesce(j.attempted_by, '-'), coalesce(j.attempted_at::text, '-'), d.status, e.status)
		  FROM public.jobs j
		  LEFT JOIN {tenant}.directives d ON d.id::text = j.args->>'id'
		  LEFT JOIN {tenant}.agent_executions e ON e.directive_id = d.id
		 WHERE j.tenant_schema = $1 AND j.state NOT IN ('completed', 'discarded')`), org.t.Schema())
	if err != nil {
		return err
	}
	return fmt.Errorf("unfinished: %s", strings.Join(rows, "; "))
}
