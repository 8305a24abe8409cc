package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
)

var (
	errCanceled = errors.New("canceled")
	// errShutdown: the worker is stopping; the directive's retry runs
	// the execution again from the start.
	errShutdown = errors.New("the worker stopped")
	errTimedOut = errors.New("the run took longer than the agent's timeout")
)

// ExecuteResult is an agent.execute directive's result.
type ExecuteResult struct {
	ExecutionID string `json:"execution_id"`
	Status      string `json:"status"`
}

// executeWork is agent.execute's Work: run the execution outside any
// transaction, then commit its outcome (and what its output becomes)
// with the directive's success.
func (e *Engine) executeWork(ctx context.Context, t store.Tenant, d store.Directive) (directive.CommitFunc, error) {
	var args store.ExecutionArgs
	if err := directive.Decode(d, &args); err != nil {
		return nil, err
	}
	ex, ok, err := e.st.StartExecution(ctx, t, args.ExecutionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jobs.Permanent(err)
	} else if err != nil {
		return nil, err
	}
	var out store.ExecutionOutcome
	if ok {
		if out, err = e.run(ctx, t, ex); err != nil {
			return nil, err
		}
	} else {
		// Canceled before it ran (or settled by an earlier attempt).
		out = store.ExecutionOutcome{ID: ex.ID, Status: ex.Status, Output: ex.Output}
	}
	return e.commitOutcome(t, out), nil
}

// commitOutcome records out and, the first time, what the output becomes.
func (e *Engine) commitOutcome(t store.Tenant, out store.ExecutionOutcome) directive.CommitFunc {
	return func(ctx context.Context, tx *sqlx.Tx) (any, error) {
		ex, done, err := e.st.FinishExecutionTx(ctx, tx, t, out)
		if err != nil || !done {
			return ExecuteResult{ExecutionID: out.ID, Status: ex.Status}, err
		}
		if p := e.purposes[ex.Purpose]; p.FinishFunc != nil {
			if err := p.FinishFunc(ctx, tx, t, ex); err != nil {
				return nil, fmt.Errorf("finish %s execution: %w", ex.Purpose, err)
			}
		}
		return ExecuteResult{ExecutionID: ex.ID, Status: ex.Status}, nil
	}
}

// executeFailed is agent.execute's OnFailure: the directive failed for
// good (the worker of its last attempt died, or the outcome could not be
// recorded), so its execution fails too and what waits on it learns so
// (a workflow step fails, a forum answer is reported failed), in the same
// transaction. Without it the execution stayed running for ever, and a
// workflow run with it.
func (e *Engine) executeFailed(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive, cause error) error {
	var args store.ExecutionArgs
	if err := directive.Decode(d, &args); err != nil || args.ExecutionID == "" {
		return nil // nothing to settle
	}
	ex, err := e.st.Execution(ctx, t, args.ExecutionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	_, err = e.commitOutcome(t, store.ExecutionOutcome{ID: ex.ID, Status: store.ExecFailed, Output: ex.Output,
		Error: "The run stopped before it finished. Ask again.",
		Logs:  []store.ExecutionLog{logLine("error", "gave up: "+directive.FailureText(cause))}})(ctx, tx)
	return err
}

// run executes ex and says how it went. Provider failures, refusals and
// cancellations are outcomes; only the database failing (or the worker
// stopping) is an error, and the directive's retry runs it again.
func (e *Engine) run(ctx context.Context, t store.Tenant, ex store.Execution) (store.ExecutionOutcome, error) {
	out := store.ExecutionOutcome{ID: ex.ID, Status: store.ExecSucceeded}
	ag, refusal, err := e.admit(ctx, t, ex)
	if err != nil {
		return out, err
	}
	if refusal != "" {
		out.Status, out.Error, out.Refused = store.ExecFailed, refusal, true
		out.Logs = []store.ExecutionLog{logLine("warn", "refused before any provider call: "+refusal)}
		return out, nil
	}
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if ag.TimeoutSeconds > 0 {
		// timeout_seconds is what one round may take; the run has a
		// round's worth for each round it may ask for.
		var stop context.CancelFunc
		rctx, stop = context.WithTimeoutCause(rctx, time.Duration(ag.TimeoutSeconds*e.cfg.MaxRounds)*time.Second, errTimedOut)
		defer stop()
	}
	defer e.track(ex.ID, cancel)()
	w := newWriter(e, t, ex, cancel)
	defer w.close()
	res, runErr := e.rounds(rctx, t, ex, ag, w)
	out.Output, out.Logs = w.text(), append(out.Logs, w.logs()...)
	out.Model, out.Provider, out.ToolNames = res.model, res.provider, res.tools
	out.PromptTokens, out.CompletionTokens, out.Requests = res.prompt, res.completion, res.requests
	out.Cost = e.cfg.Prices.Cost(res.model, res.prompt, res.completion)
	if runErr != nil {
		if errors.Is(context.Cause(rctx), errShutdown) || ctx.Err() != nil && !errors.Is(context.Cause(rctx), errCanceled) {
			return out, errShutdown // the retry starts over
		}
		e.failure(ex, &out, context.Cause(rctx), runErr)
	}
	return out, nil
}

// admit reads the agent and decides whether the run may start: only an
// active agent runs (a deploy's test runs the agent it deploys), and not
// with the month's tokens used up. refusal is what the person is told.
func (e *Engine) admit(ctx context.Context, t store.Tenant, ex store.Execution) (ag store.Agent, refusal string, err error) {
	if ex.AgentID != "" {
		ag, err = e.st.AgentByID(ctx, t, ex.AgentID)
		if errors.Is(err, store.ErrNotFound) {
			return ag, "The agent no longer exists.", nil
		} else if err != nil {
			return ag, "", err
		}
		testing := ex.Purpose == store.PurposeTest && ag.State == store.AgentDeploying
		if !ag.Active() && !testing {
			return ag, refusalText(ag.NotRunning()), nil
		}
	} else {
		ag = store.Agent{Name: ex.AgentName}
	}
	used, err := e.st.MonthTokens(ctx, t, time.Now())
	if err != nil {
		return ag, "", err
	}
	limit, err := e.st.TokenLimit(ctx, t)
	if err != nil {
		return ag, "", err
	}
	if used >= limit {
		return ag, fmt.Sprintf("The organization's monthly token limit is reached (%d of %d tokens used this month). "+
			"It resets on the first of next month, or upgrade the plan.", used, limit), nil
	}
	return ag, "", nil
}

func refusalText(err error) string {
	var v *store.ValidationError
	if errors.As(err, &v) {
		var parts []string
		for _, m := range v.Fields {
			parts = append(parts, m)
		}
		return strings.Join(parts, " ")
	}
	return err.Error()
}

// usage is what the rounds of a run used.
type usage struct {
	model, provider    string
	prompt, completion int
	requests           int
	tools              []string
}

// rounds asks the provider, runs the tools it calls and asks again, up to
// MaxRounds; the last round must answer in words.
func (e *Engine) rounds(ctx context.Context, t store.Tenant, ex store.Execution, ag store.Agent, w *writer) (usage, error) {
	if af := e.purposes[ex.Purpose].AnswerFunc; af != nil {
		text, ok, err := af(ctx, t, ex)
		if err != nil || ok {
			w.delta(text)
			return usage{provider: "command"}, err
		}
	}
	p := e.provider(t, ex)
	u := usage{provider: p.Name()}
	msgs, err := e.prompt(ctx, t, ex, ag)
	if err != nil {
		return u, err
	}
	tools := e.tools.Offer(ctx, t, e.purposes[ex.Purpose].Actions)
	cfg := ag.ConfigValues()
	for round := 1; ; round++ {
		req := llm.Request{Messages: msgs, Tools: tools.Specs(), MaxTokens: cfg.MaxTokens}
		if e.cfg.LLM.Model() == "" {
			req.Model = cfg.Model
		}
		if ag.ID != "" {
			temp := cfg.Temperature
			req.Temperature = &temp
		}
		if round >= e.cfg.MaxRounds {
			req.Tools = nil
		}
		res, err := p.Stream(ctx, req, func(s string) error { w.delta(s); return nil })
		u.requests++
		u.model = firstNonEmpty(res.Model, req.Model, e.cfg.LLM.Model(), u.model)
		u.prompt += res.Usage.PromptTokens
		u.completion += res.Usage.CompletionTokens
		if err != nil {
			return u, err
		}
		if len(res.ToolCalls) == 0 {
			return u, nil
		}
		msgs = append(msgs, llm.Message{Role: "assistant", Content: res.Content, ToolCalls: res.ToolCalls})
		for _, c := range res.ToolCalls {
			u.tools = append(u.tools, c.Function.Name)
			result := tools.Call(ctx, t, ex, c)
			w.log("info", fmt.Sprintf("round %d: tool %s(%s) → %s", round, c.Function.Name, clip(c.Function.Arguments, 200), clip(result, 300)))
			msgs = append(msgs, llm.Message{Role: "tool", Content: result, ToolCallID: c.ID})
		}
		w.log("info", fmt.Sprintf("round %d asked for %d tool call(s)", round, len(res.ToolCalls)))
	}
}

// prompt is the system prompt (the agent's, its skills', and the tools'
// guide) and the purpose's messages.
func (e *Engine) prompt(ctx context.Context, t store.Tenant, ex store.Execution, ag store.Agent) ([]llm.Message, error) {
	system := strings.TrimSpace(ag.SystemPrompt)
	if system == "" {
		system = "You are " + ex.AgentName + ", an AI agent of this organization."
	}
	extra, err := e.st.SkillPrompts(ctx, t)
	if err != nil {
		return nil, err
	}
	for _, s := range extra {
		system += "\n\n" + s
	}
	msgs := []llm.Message{{Role: "system", Content: system + "\n\n" + toolGuide}}
	pf := e.purposes[ex.Purpose].PromptFunc
	if pf == nil {
		return append(msgs, llm.Message{Role: "user", Content: ex.Input}), nil
	}
	more, err := pf(ctx, t, ex)
	return append(msgs, more...), err
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func logLine(level, msg string) store.ExecutionLog {
	return store.ExecutionLog{At: time.Now(), Level: level, Message: msg}
}

func testPrompt(_ context.Context, _ store.Tenant, ex store.Execution) ([]llm.Message, error) {
	return []llm.Message{{Role: "user", Content: ex.Input}}, nil
}

// writer collects a run's output as it streams: it pushes each piece to
// the live stream, saves the text to the row now and then (noticing a
// cancel made elsewhere), and keeps the log.
type writer struct {
	e      *Engine
	t      store.Tenant
	ex     store.Execution
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	buf    strings.Builder
	lines  []store.ExecutionLog
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

func newWriter(e *Engine, t store.Tenant, ex store.Execution, cancel context.CancelCauseFunc) *writer {
	w := &writer{e: e, t: t, ex: ex, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	e.cfg.Stream.Publish(StreamEvent{Tenant: t, Execution: ex, Kind: StreamStart})
	go w.saveLoop()
	return w
}

func (w *writer) delta(s string) {
	s = strings.ReplaceAll(s, "\r", "")
	if s == "" {
		return
	}
	w.mu.Lock()
	off := w.buf.Len()
	w.buf.WriteString(s)
	w.mu.Unlock()
	w.e.cfg.Stream.Publish(StreamEvent{Tenant: w.t, Execution: w.ex, Kind: StreamDelta, Offset: off, Text: s})
}

func (w *writer) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *writer) log(level, msg string) {
	w.mu.Lock()
	w.lines = append(w.lines, logLine(level, msg))
	w.mu.Unlock()
}

func (w *writer) logs() []store.ExecutionLog {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]store.ExecutionLog(nil), w.lines...)
}

// saveLoop writes the text so far every SaveEvery, off the token path.
func (w *writer) saveLoop() {
	defer close(w.done)
	tick := time.NewTicker(w.e.cfg.SaveEvery)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		w.mu.Lock()
		text := w.buf.String()
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		running, err := w.e.st.SaveExecutionProgress(ctx, w.t, w.ex.ID, text)
		if pf := w.e.purposes[w.ex.Purpose].ProgressFunc; err == nil && running && pf != nil {
			err = pf(ctx, w.t, w.ex, text)
		}
		cancel()
		switch {
		case err != nil:
			w.e.log.Warn("save execution progress", "execution", w.ex.ID, "err", err)
		case !running:
			w.cancel(errCanceled) // canceled by someone, maybe in another process
			return
		}
	}
}

func (w *writer) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	w.e.cfg.Stream.Publish(StreamEvent{Tenant: w.t, Execution: w.ex, Kind: StreamEnd, Offset: len(w.text())})
}
