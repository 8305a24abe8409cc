package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"

	"fleetprompt/bench/benchsite"
	"fleetprompt/jobs"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
)

// Figure 1: provider chunk → SSE frame. N executions stream at once from
// a fake OpenAI-compatible provider that stamps each chunk with the time
// it wrote it; one client per execution follows /events?topic=
// execution:<id>, as the run's page does, and takes the time each
// agent.output.delta frame arrives. That path (fake → engine → relay →
// hub → client) includes the fake's own writing and the clients' parsing;
// the same chunks streamed by the fake straight to the same clients (the
// baseline) measure those alone. Each round runs the two one after the
// other (for CPU per chunk), then both at once ("paired"): on a shared
// machine a busy neighbour slows both alike, so the difference of the
// paired quantiles is the headline estimate of the app's overhead.

type streamOpts struct {
	execs, chunks, rounds int
	gap                   time.Duration
}

// streamReply is the fake's answer for every run: stamped chunks, gap
// apart.
func streamReply(o streamOpts) func(llmtest.Request) llmtest.Reply {
	return func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: make([]string, o.chunks), ChunkFunc: stamp, Delay: o.gap,
			Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: o.chunks, TotalTokens: 10 + o.chunks}}
	}
}

type streamResult struct {
	// Alone: the app path and the baseline, each on its own.
	app, base dist
	// Paired: the two at the same time, so both meet the same machine.
	pairedApp, pairedBase dist
	perRound              []time.Duration // paired overhead at p99, per round
	lost                  int             // chunks that never reached a client as a delta
	appCPU, appDBCPU      time.Duration   // per chunk, the app path alone
	baseCPU               time.Duration   // per chunk, the baseline alone
}

func streamFigure(ctx context.Context, site *benchsite.Site, fake *llmtest.Server, o streamOpts) (streamResult, error) {
	var res streamResult
	fake.SetScript(streamReply(o))
	org := benchOrg{t: site.Tenant, userID: site.UserID}
	if err := unlimited(ctx, site.Store, org.t); err != nil {
		return res, err
	}
	agents, err := activeAgents(ctx, site.Store, org, 10, "Streamer")
	if err != nil {
		return res, err
	}
	c, err := signIn(site)
	if err != nil {
		return res, err
	}
	// A short round first, not counted: the pool's connections, the
	// runner's and the streams' first use happen there.
	warm := o
	warm.chunks = 10
	fake.SetScript(streamReply(warm))
	if _, _, err := streamRound(ctx, site, c, org, agents, warm); err != nil {
		return res, fmt.Errorf("warm-up: %w", err)
	}
	fake.SetScript(streamReply(o))
	for round := 1; round <= o.rounds; round++ {
		self0 := processCPU()
		base, err := baseline(fake, o)
		if err != nil {
			return res, fmt.Errorf("baseline: %w", err)
		}
		res.baseCPU += (processCPU() - self0) / time.Duration(max(1, len(base)))
		res.base = append(res.base, base...)
		cpu := startCPU(site)
		app, lost, err := streamRound(ctx, site, c, org, agents, o)
		if err != nil {
			return res, fmt.Errorf("round %d: %w", round, err)
		}
		self, db := cpu.per(o.execs * o.chunks)
		res.appCPU, res.appDBCPU = res.appCPU+self, res.appDBCPU+db
		res.app = append(res.app, app...)
		res.lost += lost
		var pb dist
		var pbErr error
		paired := make(chan struct{})
		go func() { defer close(paired); pb, pbErr = baseline(fake, o) }()
		pa, lost, err := streamRound(ctx, site, c, org, agents, o)
		<-paired
		if err = errors.Join(err, pbErr); err != nil {
			return res, fmt.Errorf("round %d, paired: %w", round, err)
		}
		res.lost += lost
		res.pairedApp, res.pairedBase = append(res.pairedApp, pa...), append(res.pairedBase, pb...)
		res.perRound = append(res.perRound, max(0, pa.sorted().q(.99)-pb.sorted().q(.99)))
		fmt.Printf("  round %d  app alone   %v\n", round, app)
		fmt.Printf("           fake alone  %v\n", base)
		fmt.Printf("           app, paired %v\n", pa)
		fmt.Printf("           fake,paired %v\n", pb)
	}
	n := time.Duration(o.rounds)
	res.appCPU, res.appDBCPU, res.baseCPU = res.appCPU/n, res.appDBCPU/n, res.baseCPU/n
	return res, nil
}

// streamRound queues the executions, opens a stream on each, then lets a
// runner with a worker per execution run them all at once.
func streamRound(ctx context.Context, site *benchsite.Site, c *http.Client, org benchOrg, agents []string, o streamOpts) (dist, int, error) {
	ids := make([]string, o.execs)
	for i := range ids {
		ex, err := org.request(ctx, site.Store, agents[i%len(agents)], "Stream a long answer, please.")
		if err != nil {
			return nil, 0, err
		}
		ids[i] = ex.ID
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var all dist
	lost := 0
	errc := make(chan error, o.execs)
	var wg sync.WaitGroup
	for _, id := range ids {
		body, err := openStream(sctx, c, site.URL+"/events?topic=execution:"+id)
		if err != nil {
			return nil, 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer body.Close()
			lat, err := followRun(body)
			mu.Lock()
			all = append(all, lat...)
			lost += o.chunks - len(lat)
			mu.Unlock()
			errc <- err
		}()
	}
	w := newJobWatch(o.execs)
	runner := site.Runner(jobs.Config{MaxWorkers: o.execs + 4, PollInterval: 50 * time.Millisecond,
		Tenants: []string{org.t.Schema()}, OnEventFunc: w.event, Logger: quietLog})
	if err := runner.Start(ctx); err != nil {
		return nil, 0, err
	}
	defer runner.Stop(context.Background())
	runErr := w.wait(time.Duration(o.chunks)*o.gap*4 + time.Minute)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cancel()
		<-done
	}
	close(errc)
	for err := range errc {
		if err != nil {
			return nil, 0, err
		}
	}
	return all, lost, runErr
}

func signIn(site *benchsite.Site) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	form := url.Values{"email": {site.Email}, "password": {site.Password}}
	resp, err := c.PostForm(site.URL+"/login", form)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in: %s", resp.Status)
	}
	return c, nil
}

func openStream(ctx context.Context, c *http.Client, u string) (io.ReadCloser, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	return resp.Body, nil
}

// followRun reads one execution's stream until its outcome, returning
// each delta's stamp-to-arrival time. Snapshots (a catch-up) carry
// stamps too, but they are not increments: they are left out.
func followRun(body io.Reader) (dist, error) {
	var lat dist
	var outcome string
	err := readFrames(body, func(event, data string, at time.Time) bool {
		switch {
		case event == "agent.output.delta":
			stamps(data, func(ns int64) { lat = append(lat, at.Sub(time.Unix(0, ns))) })
		case strings.HasPrefix(event, "agent.execution."):
			outcome = strings.TrimPrefix(event, "agent.execution.")
			return false
		}
		return true
	})
	if err != nil {
		return lat, fmt.Errorf("stream ended before the run did: %w", err)
	}
	if outcome != "succeeded" {
		return lat, fmt.Errorf("a run %s", outcome)
	}
	return lat, nil
}

// baseline streams the same answers from the fake straight to clients
// parsing them the same way: the fake's writing, the loopback and the
// parsing, without the app.
func baseline(fake *llmtest.Server, o streamOpts) (dist, error) {
	var mu sync.Mutex
	var all dist
	var wg sync.WaitGroup
	errc := make(chan error, o.execs)
	tr := &http.Transport{MaxIdleConnsPerHost: o.execs}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for range o.execs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Post(fake.BaseURL()+"/chat/completions", "application/json",
				strings.NewReader(`{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"x"}]}`))
			if err != nil {
				errc <- err
				return
			}
			defer resp.Body.Close()
			var lat dist
			readFrames(resp.Body, func(_, data string, at time.Time) bool {
				stamps(data, func(ns int64) { lat = append(lat, at.Sub(time.Unix(0, ns))) })
				return data != "[DONE]"
			})
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no chunks")
	}
	return all, nil
}

// summary is the figure's line. The headline is the paired overhead:
// the app path's quantile minus the baseline's, measured in the same
// seconds (a busy neighbour slows both alike).
func (res streamResult) summary(o streamOpts) string {
	pa, pb := res.pairedApp.sorted(), res.pairedBase.sorted()
	over := func(q float64) time.Duration { return max(0, pa.q(q)-pb.q(q)) }
	app, base := res.app.sorted(), res.base.sorted()
	p99 := over(.99)
	var rounds []string
	for _, d := range res.perRound {
		rounds = append(rounds, r(d).String())
	}
	return fmt.Sprintf("agents stream: app overhead per chunk, provider chunk → SSE frame, %d concurrent executions: p50=%v p90=%v p99=%v "+
		"(target p99 ≤ 5ms: %s, %.2f× the target; p99 per round %s)\n"+
		"  %d samples paired (%d chunks lost of %d); alone, the app path p50=%v p99=%v max=%v (an upper bound of the overhead) "+
		"and the fake straight to clients p50=%v p99=%v\n"+
		"  CPU per chunk (the whole run amortised: queueing, streaming, saving, finishing): this process %v with the app vs %v for the fake "+
		"and clients alone, so the app's share ≈ %v (%.3f× the 5ms budget); PostgreSQL %v",
		o.execs, r(over(.5)), r(over(.9)), r(p99), verdict(p99 <= 5*time.Millisecond), float64(p99)/float64(5*time.Millisecond),
		strings.Join(rounds, " "), len(pa), res.lost, 2*o.rounds*o.execs*o.chunks, r(app.q(.5)), r(app.q(.99)), r(app.q(1)), r(base.q(.5)), r(base.q(.99)),
		r(res.appCPU), r(res.baseCPU), r(max(0, res.appCPU-res.baseCPU)),
		float64(max(0, res.appCPU-res.baseCPU))/float64(5*time.Millisecond), r(res.appDBCPU))
}
