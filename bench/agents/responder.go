package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"fleetprompt/bench/benchsite"
	"fleetprompt/jobs"
	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
)

// Figure 2: the built-in responder (no model provider) over a forum of
// 100,000 posts. Each question is a real execution: requested, run by
// the job runner, answered by the engine's responder, its outcome
// committed. The answer's time is the engine writing it: from the start
// of its output (the prompt is built, the tools offered, the forum
// searched, the answer composed and streamed) to its end, as the
// engine's output stream sees them. Around it, the execution's own
// bookkeeping (claiming the directive, starting the row, committing the
// outcome, usage and signal: three durable commits) is timed too, from
// the job's start to its commit; and the retrieval alone
// (store.SearchForum as the responder calls it), to show where the time
// goes.

type responderOpts struct{ posts, questions, workers int }

type responderResult struct {
	answer, search  dist
	job             dist // job start → commit
	answered        int  // questions the forum had something for
	quoted          int  // posts quoted in all
	relevant        int  // of them, from a thread on the question's topic
	cpuSelf, cpuDB  time.Duration
	fill            time.Duration
	sample, example string
}

func responderFigure(ctx context.Context, site *benchsite.Site, o responderOpts) (responderResult, error) {
	var res responderResult
	org, err := newOrg(ctx, site.Store, "responder")
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	if err := fillForum(ctx, site.Store, org, o.posts, 20); err != nil {
		return res, fmt.Errorf("fill the forum: %w", err)
	}
	if _, err := site.Store.DB.ExecContext(ctx, org.t.SQL(`ANALYZE {tenant}.forum_posts`)); err != nil {
		return res, err
	}
	res.fill = time.Since(t0)
	qs := questions(o.questions)
	fmt.Printf("  %d posts written in %v (COPY); %d questions\n", o.posts, r(res.fill), len(qs))

	for _, q := range qs {
		s := time.Now()
		hits, err := site.Store.SearchForum(ctx, org.t, store.ForumQuery{Text: q.text, Any: true, Limit: 3})
		if err != nil {
			return res, err
		}
		res.search = append(res.search, time.Since(s))
		if len(hits) > 0 {
			res.answered++
		}
		for _, h := range hits {
			res.quoted++
			if onTopic(h.ThreadTitle, q.topic) {
				res.relevant++
			}
		}
	}
	fmt.Printf("  retrieval alone: %v\n", res.search)

	ids, err := activeAgents(ctx, site.Store, org, 1, "Support")
	if err != nil {
		return res, err
	}
	var exIDs []string
	for _, q := range qs {
		ex, err := org.request(ctx, site.Store, ids[0], q.text)
		if err != nil {
			return res, err
		}
		exIDs = append(exIDs, ex.ID)
	}
	// The app's wiring without a model provider: the built-in responder.
	eng := agent.New(agent.Config{Store: site.Store, Logger: quietLog})
	timer := &writeTimer{start: map[string]time.Time{}}
	eng.AddStream(timer)
	dirs := directive.New(site.Store, quietLog, eng.Kinds()...)
	w := newJobWatch(len(qs))
	runner := jobs.New(site.Store.DB, jobs.Config{DSN: site.DSN, MaxWorkers: o.workers, PollInterval: 50 * time.Millisecond,
		Tenants: []string{org.t.Schema()}, OnEventFunc: w.event, Logger: quietLog})
	dirs.RegisterJobs(runner)
	cpu := startCPU(site)
	if err := runner.Start(ctx); err != nil {
		return res, err
	}
	err = w.wait(10 * time.Minute)
	runner.Stop(context.Background())
	if err != nil {
		return res, err
	}
	res.cpuSelf, res.cpuDB = cpu.per(len(qs))
	res.job, res.answer = w.durations(), timer.took
	fmt.Printf("  answer (the engine writing it): %v\n", res.answer)
	fmt.Printf("  execution (job start → commit): %v\n", res.job)
	return res, responderSample(ctx, site.Store, org, exIDs, &res)
}

// responderSample checks every run succeeded and keeps one answer to show.
func responderSample(ctx context.Context, st *store.Store, org benchOrg, ids []string, res *responderResult) error {
	var failed int
	if err := st.DB.GetContext(ctx, &failed, org.t.SQL(`SELECT count(*) FROM {tenant}.agent_executions WHERE status <> 'succeeded'`)); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of the responder's runs did not succeed", failed)
	}
	for _, id := range ids {
		ex, err := st.Execution(ctx, org.t, id)
		if err != nil {
			return err
		}
		if strings.Contains(ex.Output, "[read it]") && len(ex.Input) < 80 {
			res.example, res.sample = ex.Input, ex.Output
			return nil
		}
	}
	return nil
}

// writeTimer times each execution's output, from its start to its end.
type writeTimer struct {
	mu    sync.Mutex
	start map[string]time.Time
	took  dist
}

func (w *writeTimer) Publish(ev agent.StreamEvent) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev.Kind {
	case agent.StreamStart:
		w.start[ev.Execution.ID] = now
	case agent.StreamEnd:
		if at, ok := w.start[ev.Execution.ID]; ok {
			w.took = append(w.took, now.Sub(at))
			delete(w.start, ev.Execution.ID)
		}
	}
}

func (res responderResult) summary(o responderOpts) string {
	a, s, j := res.answer.sorted(), res.search.sorted(), res.job.sorted()
	p99 := a.q(.99)
	return fmt.Sprintf("agents responder: built-in responder over %d forum posts, %d questions (%d%% found something), %d workers: "+
		"p50=%v p99=%v per answer (target p99 ≤ 50ms: %s, %.2f× the target)\n"+
		"  answers n=%d, IQR %v–%v, max %v; retrieval alone p50=%v p99=%v max=%v (%.0f%% of the answer's p99); "+
		"the whole execution (job start → commit, three durable commits) p50=%v p99=%v\n"+
		"  relevance: %d%% of the %d posts quoted come from threads on the question's topic\n"+
		"  CPU per answer, its whole execution included: this process %v, PostgreSQL %v (together %.2f× the 50ms budget; the rest of the wall time is waiting for the machine)",
		o.posts, len(s), res.answered*100/max(1, len(s)), o.workers, r(a.q(.5)), r(p99), verdict(p99 <= 50*time.Millisecond),
		float64(p99)/float64(50*time.Millisecond), len(a), r(a.q(.25)), r(a.q(.75)), r(a.q(1)),
		r(s.q(.5)), r(s.q(.99)), r(s.q(1)), 100*float64(s.q(.99))/float64(max(p99, 1)), r(j.q(.5)), r(j.q(.99)), res.relevant*100/max(1, res.quoted), res.quoted, r(res.cpuSelf), r(res.cpuDB),
		float64(res.cpuSelf+res.cpuDB)/float64(50*time.Millisecond))
}
