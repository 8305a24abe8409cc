package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// benchOrg is an organization of its own for one figure, so the figures
// never read each other's rows.
type benchOrg struct {
	t      store.Tenant
	userID int64
}

var orgSeq atomic.Int64

// newOrg registers an organization whose monthly token limit never
// refuses a run (tier enterprise: the bench measures running, not the
// quota).
func newOrg(ctx context.Context, st *store.Store, prefix string) (benchOrg, error) {
	slug := fmt.Sprintf("%s%d%d", prefix, time.Now().UnixNano()%1e8, orgSeq.Add(1))
	u, org, err := st.Register(ctx, store.Registration{OrgName: "Bench " + slug, OrgSlug: slug, Name: "Bench Owner",
		Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		return benchOrg{}, fmt.Errorf("register %s: %w", slug, err)
	}
	o := benchOrg{t: store.Tenant{OrgID: org.ID, Slug: org.Slug}, userID: u.ID}
	return o, unlimited(ctx, st, o.t)
}

func unlimited(ctx context.Context, st *store.Store, t store.Tenant) error {
	_, err := st.DB.ExecContext(ctx, `UPDATE organizations SET tier = 'enterprise' WHERE id = $1`, t.OrgID)
	return err
}

// activeAgents makes n agents through the store's own paths (create,
// deploy, activate), as a deployed agent is.
func activeAgents(ctx context.Context, st *store.Store, o benchOrg, n int, prefix string) ([]string, error) {
	var ids []string
	for i := range n {
		a, err := st.CreateAgent(ctx, o.t, store.AgentForm{Name: fmt.Sprintf("%s %d", prefix, i+1),
			SystemPrompt: "You answer the team's questions briefly, from what the organization knows.",
			Model:        "fake-model", Temperature: "0.2", MaxTokens: "512"}, o.userID)
		if err != nil {
			return nil, err
		}
		for _, action := range []string{"deploy", "activate"} {
			if _, err := st.TransitionAgent(ctx, o.t, a.ID, action, o.userID); err != nil {
				return nil, err
			}
		}
		ids = append(ids, a.ID)
	}
	return ids, nil
}

// request queues one run of agent on input, as POST
// /agents/:id/executions does.
func (o benchOrg) request(ctx context.Context, st *store.Store, agentID, input string) (store.Execution, error) {
	return st.RequestExecution(ctx, o.t, store.NewExecution{AgentID: agentID, Purpose: store.PurposeRun, Input: input,
		Cause: store.Cause{Type: "user", ID: strconv.FormatInt(o.userID, 10)}, UserID: o.userID})
}

// jobWatch follows a runner's directive jobs: how many finished, and how
// long each took from its start to its commit.
type jobWatch struct {
	want      int64
	completed atomic.Int64
	discarded atomic.Int64
	retried   atomic.Int64
	done      chan struct{}
	once      sync.Once
	starts    sync.Map // job id → when it started
	took      chan time.Duration
}

func newJobWatch(want int) *jobWatch {
	return &jobWatch{want: int64(want), done: make(chan struct{}), took: make(chan time.Duration, want*2+16)}
}

// event is the runner's OnEventFunc.
func (w *jobWatch) event(e jobs.Event) {
	if e.Job.Kind != store.DirectiveJob {
		return
	}
	switch e.Kind {
	case jobs.EventStarted:
		w.starts.Store(e.Job.ID, e.At)
		return
	case jobs.EventCompleted:
		if at, ok := w.starts.LoadAndDelete(e.Job.ID); ok {
			select {
			case w.took <- e.At.Sub(at.(time.Time)):
			default:
			}
		}
		w.completed.Add(1)
	case jobs.EventDiscarded:
		w.discarded.Add(1)
	case jobs.EventRetried:
		w.retried.Add(1)
		return
	}
	if w.completed.Load()+w.discarded.Load() >= w.want {
		w.once.Do(func() { close(w.done) })
	}
}

// wait waits until every job finished, or d passed.
func (w *jobWatch) wait(d time.Duration) error {
	select {
	case <-w.done:
		return nil
	case <-time.After(d):
		return fmt.Errorf("after %v only %d of %d jobs finished (%d discarded)", d, w.completed.Load()+w.discarded.Load(), w.want, w.discarded.Load())
	}
}

// durations drains the start-to-commit times collected so far.
func (w *jobWatch) durations() dist {
	var out dist
	for {
		select {
		case d := <-w.took:
			out = append(out, d)
		default:
			return out
		}
	}
}
