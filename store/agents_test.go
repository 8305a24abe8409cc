package store_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func newAgent(t *testing.T, st *store.Store, tn store.Tenant, name string) string {
	t.Helper()
	var id string
	if err := st.DB.Get(&id, tn.SQL(`INSERT INTO {tenant}.agents (name, system_prompt) VALUES ($1, 'You help.') RETURNING id`), name); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLegalActions(t *testing.T) {
	t.Parallel()
	for state, want := range map[string][]string{
		"draft":     {"deploy"},
		"deploying": {"activate", "error"},
		"active":    {"pause", "error"},
		"paused":    {"resume"},
		"error":     {"redeploy"},
		"unknown":   nil,
	} {
		if got := store.LegalActions(state); !reflect.DeepEqual(got, want) {
			t.Errorf("LegalActions(%s) = %v, want %v", state, got, want)
		}
	}
}

func TestAgentTransitionsFollowTheStateMachine(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, st, storetest.Name("agt"))
	tn := org.Tenant()
	id := newAgent(t, st, tn, "Helper")

	steps := []struct{ action, want string }{
		{"deploy", "deploying"}, {"error", "error"}, {"redeploy", "deploying"}, {"activate", "active"},
		{"pause", "paused"}, {"resume", "active"}, {"error", "error"},
	}
	for _, s := range steps {
		a, err := st.TransitionAgent(ctx, tn, id, s.action, u.ID)
		if err != nil || a.State != s.want {
			t.Fatalf("%s: state %q err %v, want %s", s.action, a.State, err, s.want)
		}
	}
	var payloads []string
	st.DB.Select(&payloads, tn.SQL(`SELECT payload->>'from' || '>' || (payload->>'to') FROM {tenant}.signals
		WHERE name = 'agent.state.changed' AND subject_type = 'agent' AND subject_id = $1 AND actor_id = $2 ORDER BY seq`), id, u.ID)
	want := "draft>deploying deploying>error error>deploying deploying>active active>paused paused>active active>error"
	if got := strings.Join(payloads, " "); got != want {
		t.Errorf("signals:\n got %s\nwant %s", got, want)
	}

	// Illegal: a clear message naming what is allowed; nothing changes.
	_, err := st.TransitionAgent(ctx, tn, id, "pause", u.ID)
	var v *store.ValidationError
	if !errors.As(err, &v) || !strings.Contains(v.Fields["action"], "cannot pause an agent that is error") || !strings.Contains(v.Fields["action"], "redeploy") {
		t.Fatalf("illegal transition: %v", err)
	}
	// The allowed actions read as words, never as a Go slice ("[activate error]").
	if msg := v.Fields["action"]; strings.ContainsAny(msg, "[]") || !strings.Contains(msg, "it can redeploy") {
		t.Errorf("illegal transition says %q", msg)
	}

	if _, err := st.TransitionAgent(ctx, tn, id, "explode", u.ID); !errors.As(err, &v) {
		t.Errorf("unknown action: %v", err)
	}
	a, _ := st.AgentByID(ctx, tn, id)
	if a.State != "error" {
		t.Errorf("a refused transition changed the state to %s", a.State)
	}
	var n int
	st.DB.Get(&n, tn.SQL(`SELECT count(*) FROM {tenant}.signals WHERE name = 'agent.state.changed'`))
	if n != len(steps) {
		t.Errorf("%d signals, want %d (refusals emit nothing)", n, len(steps))
	}
}

// Two concurrent deploys of a draft agent: one wins, the other is refused
// against the winner's result.
func TestConcurrentTransitionsApplyOneAfterTheOther(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	u, org := register(t, st, storetest.Name("agc"))
	id := newAgent(t, st, org.Tenant(), "Racer")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.TransitionAgent(context.Background(), org.Tenant(), id, "deploy", u.ID)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("want exactly one deploy to succeed: %v, %v", errs[0], errs[1])
	}
}

func TestAgentsAreTenantScoped(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, a := register(t, st, storetest.Name("aga"))
	_, b := register(t, st, storetest.Name("agb"))
	id := newAgent(t, st, a.Tenant(), "Mine")
	if _, err := st.AgentByID(ctx, b.Tenant(), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another org reads the agent: %v", err)
	}
	if _, err := st.TransitionAgent(ctx, b.Tenant(), id, "deploy", u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another org transitions the agent: %v", err)
	}
	if _, err := st.AgentByID(ctx, a.Tenant(), "not-a-uuid"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("malformed id: %v", err)
	}
	list, err := st.ListAgents(ctx, b.Tenant())
	if err != nil || len(list) != 0 {
		t.Errorf("org b lists %d agents (%v)", len(list), err)
	}
}
