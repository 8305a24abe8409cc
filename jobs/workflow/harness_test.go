package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/jobs/agent"
	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/executor"
	"fleetprompt/jobs/signal"
	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

var ctx = context.Background()

// harness is one tenant with the engines wired as app/platform.go wires
// them, limited to that tenant: directives (the forum's kinds, the
// agents', the workflows', and two test kinds), the agent engine (the
// built-in responder), the workflow engine's subscribers and step jobs.
type harness struct {
	t     *testing.T
	st    *store.Store
	tn    store.Tenant
	user  store.User
	dirs  *directive.Engine
	wf    *workflow.Engine
	fails atomic.Bool // test.flaky refuses while set
}

func newHarness(t *testing.T, provider ...*llmtest.Server) *harness {
	t.Helper()
	st := storetest.Store(t)
	tn, u := storetest.NewTenant(t, st, "wf")
	st.DB.MustExec(`UPDATE organizations SET tier = 'pro' WHERE id = $1`, tn.OrgID)
	st.DB.MustExec(tn.SQL(`CREATE TABLE {tenant}.test_effects (note text, at timestamptz DEFAULT clock_timestamp())`))
	h := &harness{t: t, st: st, tn: tn, user: u}
	log := storetest.Quiet()
	if os.Getenv("WF_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := agent.Config{Store: st, SaveEvery: 50 * time.Millisecond, Logger: log}
	if len(provider) > 0 { // else the built-in responder
		cfg.LLM = llm.New(llm.Config{BaseURL: provider[0].BaseURL(), Model: "fake-model"})
	}
	agents := agent.New(cfg)
	h.wf = workflow.New(st, func() *directive.Engine { return h.dirs }, log)
	agents.Handle(h.wf.Purpose())
	kinds := append(executor.Forum(st), agents.Kinds()...)
	kinds = append(kinds, h.wf.Kinds()...)
	kinds = append(kinds, directive.Kind{Name: "test.record", Title: "Record", Pending: "Record requested", Run: h.record},
		directive.Kind{Name: "test.flaky", Title: "Flaky", Pending: "Flaky requested", Run: h.flaky})
	h.dirs = directive.New(st, log, kinds...)
	bus := signal.New(signal.Config{Store: st, DSN: storetest.DSN(), Tenants: []string{tn.Schema()}, Logger: log,
		BackoffFunc: func(int) time.Duration { return 20 * time.Millisecond }})
	for _, s := range h.wf.Subscribers() {
		bus.Subscribe(s)
	}
	r := jobs.New(st.DB, jobs.Config{DSN: storetest.DSN(), Tenants: []string{tn.Schema()}, PollInterval: 20 * time.Millisecond,
		MaxWorkers: 8, Logger: log, BackoffFunc: func(int) time.Duration { return 20 * time.Millisecond }})
	h.dirs.RegisterJobs(r)
	h.wf.RegisterJobs(r)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		bus.Stop(c)
		r.Stop(c)
	})
	return h
}

type note struct {
	Note string `json:"note"`
}

// record writes its payload's note as an effect row and returns it.
func (h *harness) record(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
	var n note
	d.Decode(&n)
	_, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.test_effects (note) VALUES ($1)`), n.Note)
	return n, err
}

func (h *harness) flaky(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
	if h.fails.Load() {
		return nil, store.Invalid("", "the flaky kind refused on purpose")
	}
	return h.record(ctx, tx, t, d)
}

// effects lists the notes recorded, in order.
func (h *harness) effects() []string {
	var out []string
	h.st.DB.Select(&out, h.tn.SQL(`SELECT note FROM {tenant}.test_effects ORDER BY at, ctid`))
	return out
}

// workflow saves and enables a workflow of def (JSON).
func (h *harness) workflow(name, def string) store.Workflow {
	h.t.Helper()
	d, err := h.wf.ParseAndCheck(ctx, h.tn, def)
	if err != nil {
		h.t.Fatalf("definition of %s: %v", name, err)
	}
	w, err := h.st.CreateWorkflow(ctx, h.tn, store.WorkflowSpec{Name: name, Definition: d.JSON(), TriggerSignal: d.Trigger.Signal}, h.user.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	if w, err = h.st.SetWorkflowEnabled(ctx, h.tn, w.ID, true, h.user.ID); err != nil {
		h.t.Fatal(err)
	}
	return w
}

// emit records a signal as a change would.
func (h *harness) emit(name string, payload map[string]any) store.Signal {
	h.t.Helper()
	var sig store.Signal
	err := h.st.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		sig, _, err = h.st.EmitSignal(ctx, tx, h.tn, store.NewSignal{Name: name, Payload: payload, Source: "test", Actor: store.UserActor(h.user.ID)})
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return sig
}

// runs returns a workflow's runs, oldest first.
func (h *harness) runs(w store.Workflow) []store.WorkflowRun {
	h.t.Helper()
	rs, err := h.st.WorkflowRuns(ctx, h.tn, w.ID, 100)
	if err != nil {
		h.t.Fatal(err)
	}
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return rs
}

// waitRun waits until the workflow has n runs and the last is in one of
// statuses.
func (h *harness) waitRun(w store.Workflow, n int, statuses ...string) store.WorkflowRun {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rs := h.runs(w)
		if len(rs) >= n {
			last := rs[n-1]
			for _, s := range statuses {
				if last.Status == s {
					return last
				}
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: %d runs (want %d), last %s", w.Name, len(rs), n, describe(h, rs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func describe(h *harness, rs []store.WorkflowRun) string {
	if len(rs) == 0 {
		return "none"
	}
	last := rs[len(rs)-1]
	steps, _ := h.st.Steps(ctx, h.st.DB, h.tn, last.ID)
	out := last.Status + " " + last.Error
	for _, s := range steps {
		out += fmt.Sprintf(" [%s %s %s]", s.StepID, s.Status, s.Error)
	}
	return out
}

// steps maps a run's step ids to their status.
func (h *harness) steps(run store.WorkflowRun) map[string]store.WorkflowStep {
	h.t.Helper()
	ss, err := h.st.Steps(ctx, h.st.DB, h.tn, run.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]store.WorkflowStep{}
	for _, s := range ss {
		out[s.StepID] = s
	}
	return out
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
