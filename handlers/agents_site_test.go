package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// agentSite runs the agent engine (the built-in responder, or a fake
// provider), with job runners per tenant on demand.
type agentSite struct {
	*site
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newAgentSite(t *testing.T, provider *llmtest.Server, apiKey string) *agentSite {
	t.Helper()
	as := &agentSite{logs: &syncBuffer{}}
	sc := siteConfig{agents: true, directives: allKinds, logTo: as.logs}
	if provider != nil {
		sc.llm = llm.New(llm.Config{BaseURL: provider.BaseURL(), APIKey: apiKey, Model: "fake-model"})
	}
	as.site = startSite(t, sc)
	return as
}

// agentOrg is an organization with its owner and a plain member.
type agentOrg struct {
	slug          string
	tenant        store.Tenant
	owner, member *client
}

func (as *agentSite) newOrg(prefix string) *agentOrg {
	as.t.Helper()
	o := &agentOrg{slug: storetest.Name(prefix), owner: as.client()}
	o.owner.register(o.slug)
	org, err := as.store.OrganizationBySlug(ctx, o.slug)
	if err != nil {
		as.t.Fatal(err)
	}
	o.tenant = org.Tenant()
	o.member = as.client()
	mem := storetest.Name("mem")
	o.member.register(mem)
	if _, err := as.store.DB.ExecContext(ctx, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		SELECT o.id, u.id, 'member', 'active' FROM organizations o, users u WHERE o.slug = $1 AND lower(u.email) = $2`, o.slug, mem+"@example.com"); err != nil {
		as.t.Fatal(err)
	}
	wantStatus(as.t, o.member.post("/org/select", url.Values{"slug": {o.slug}}), http.StatusSeeOther)
	return o
}

// createAgent makes an agent through the form and returns its id.
func (o *agentOrg) createAgent(t *testing.T, name string) string {
	t.Helper()
	r := o.owner.post("/agents", url.Values{"name": {name}, "system_prompt": {"You help " + name + "'s team."}})
	wantStatus(t, r, http.StatusSeeOther)
	return strings.TrimPrefix(r.Header.Get("Location"), "/agents/")
}

// activeAgent makes an agent that is active at once (as a package does).
func (as *agentSite) activeAgent(o *agentOrg, name string) string {
	as.t.Helper()
	var id string
	if err := as.store.DB.GetContext(ctx, &id, o.tenant.SQL(`INSERT INTO {tenant}.agents (name, system_prompt, state)
		VALUES ($1, 'You answer briefly.', 'active') RETURNING id`), name); err != nil {
		as.t.Fatal(err)
	}
	return id
}

// waitExecution waits until the execution has finished.
func (as *agentSite) waitExecution(o *agentOrg, id string) store.Execution {
	as.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ex, err := as.store.Execution(ctx, o.tenant, id)
		if err != nil {
			as.t.Fatal(err)
		}
		if ex.Finished() && ex.Status != "" && (ex.Status == store.ExecCanceled || ex.FinishedAt.Valid) {
			if d, _ := as.store.Directive(ctx, o.tenant, ex.DirectiveID); d.Finished() || ex.DirectiveID == "" {
				return ex
			}
		}
		if time.Now().After(deadline) {
			as.t.Fatalf("execution %s still %s", id, ex.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitAgentState waits until the agent is in state.
func (as *agentSite) waitAgentState(o *agentOrg, id, state string) store.Agent {
	as.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		a, err := as.store.AgentByID(ctx, o.tenant, id)
		if err != nil {
			as.t.Fatal(err)
		}
		if a.State == state {
			return a
		}
		if time.Now().After(deadline) {
			as.t.Fatalf("agent %s is %s, want %s", a.Name, a.State, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run asks agent id to work on input through the form; it returns the
// execution's id.
func (o *agentOrg) run(t *testing.T, c *client, id, input string) string {
	t.Helper()
	r := c.post("/agents/"+id+"/executions", url.Values{"input": {input}})
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/executions/") {
		t.Fatalf("run redirects to %q", loc)
	}
	return strings.TrimPrefix(loc, "/executions/")
}
