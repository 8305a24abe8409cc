package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

// forumPost starts a thread in a new category of o's forum.
func (as *agentSite) forumPost(o *agentOrg, title, body string) store.ForumThread {
	as.t.Helper()
	u, err := as.store.UserByEmail(ctx, o.slug+"@example.com")
	if err != nil {
		as.t.Fatal(err)
	}
	cat, err := as.store.CreateForumCategory(ctx, o.tenant, u.ID, store.NewForumCategory{Name: "Help " + title[:4]})
	if err != nil {
		as.t.Fatal(err)
	}
	th, _, err := as.store.CreateForumThread(ctx, o.tenant, u.ID, store.NewForumThread{CategoryID: cat.ID, Title: title, Body: body})
	if err != nil {
		as.t.Fatal(err)
	}
	return th
}

func TestBuiltInResponderAnswersFromTheForum(t *testing.T) {
	t.Parallel()
	as := newAgentSite(t, nil, "")
	o := as.newOrg("agrun")
	th := as.forumPost(o, "Espresso machine keeps blinking",
		"To reset the espresso machine, hold the red button for five seconds until the light turns green.")
	as.forumPost(o, "Parking at the office", "Visitors park on level two.")
	id := as.activeAgent(o, "Office Helper")
	as.runJobs(o.slug)

	exID := o.run(t, o.member, id, "How do I reset the espresso machine?")
	ex := as.waitExecution(o, exID)
	if ex.Status != store.ExecSucceeded || !strings.Contains(ex.Output, "red button") || !strings.Contains(ex.Output, "/forums/t/"+th.ID) ||
		strings.Contains(ex.Output, "level two") {
		t.Fatalf("answer %s: %q", ex.Status, ex.Output)
	}
	if ex.PromptTokens == 0 || ex.CompletionTokens == 0 || ex.Provider != "built-in" || ex.CauseType != "user" {
		t.Errorf("recorded %+v", ex)
	}
	// Its page, without JavaScript: the answer rendered, the facts.
	d := o.member.get("/executions/" + exID).doc(t)
	if text(d, "[data-testid=execution-status]") != "succeeded" || !strings.Contains(text(d, "[data-testid=execution-output]"), "red button") {
		t.Errorf("page: %q %q", text(d, "[data-testid=execution-status]"), text(d, "[data-testid=execution-output]"))
	}
	if d.Find(`[data-testid=execution-output] a[href^="/forums/t/`+th.ID+`"]`).Length() == 0 {
		t.Error("the answer does not link to the post")
	}
	// Listed on the agent's page and counted on the usage page.
	if o.member.get("/agents/"+id).doc(t).Find(`[data-testid=run][data-id="`+exID+`"]`).Length() != 1 {
		t.Error("run not listed on its agent")
	}
	u := o.owner.get("/admin/usage").doc(t)
	row := u.Find(`[data-testid=usage-row][data-agent="` + id + `"]`)
	if row.Length() != 1 || u.Find("[data-testid=usage-chart] rect").Length() == 0 {
		t.Errorf("usage page: row %d, %d chart shapes", row.Length(), u.Find("[data-testid=usage-chart] rect").Length())
	}
	wantStatus(t, o.member.get("/admin/usage"), http.StatusForbidden)

	// Another organization sees none of it.
	b := as.newOrg("agrunb")
	wantStatus(t, b.owner.get("/executions/"+exID), http.StatusNotFound)
	wantStatus(t, b.owner.post("/executions/"+exID+"/cancel", nil), http.StatusNotFound)
	wantStatus(t, b.owner.post("/agents/"+id+"/executions", url.Values{"input": {"hi"}}), http.StatusNotFound)
	if strings.Contains(b.owner.get("/admin/usage").Body, "Office Helper") {
		t.Error("another organization's usage shows its agent")
	}
}

func TestDeployTestsThenActivatesOrSaysWhy(t *testing.T) {
	t.Parallel()
	as := newAgentSite(t, nil, "")
	o := as.newOrg("agdeploy")
	id := o.createAgent(t, "Fresh Hand")
	as.runJobs(o.slug)
	r := o.owner.get("/agents/" + id)
	key, _ := r.doc(t).Find(`form[action$="/transitions"] input[name=idempotency_key]`).Attr("value")
	wantStatus(t, o.owner.post("/agents/"+id+"/transitions", url.Values{"action": {"deploy"}, "idempotency_key": {key}}), http.StatusSeeOther)
	a := as.waitAgentState(o, id, store.AgentActive)
	runs, _ := as.store.AgentExecutions(ctx, o.tenant, id, 5)
	if len(runs) != 1 || runs[0].Purpose != store.PurposeTest || runs[0].Status != store.ExecSucceeded || a.ConsecutiveFailures != 0 {
		t.Fatalf("deploy's test: %+v", runs)
	}
	// A resent deploy form changes nothing (the agent is active now).
	wantStatus(t, o.owner.post("/agents/"+id+"/transitions", url.Values{"action": {"deploy"}, "idempotency_key": {key}}), http.StatusUnprocessableEntity)
}

func TestProviderFailuresNeverLeakAndFiveMoveTheAgentToError(t *testing.T) {
	t.Parallel()
	const key = "sk-live-0123456789abcdefSECRET"
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Status: 401, ErrorMessage: "Incorrect API key provided: " + key + " (Authorization: Bearer " + key + ")"}
	})
	defer fake.Close()
	as := newAgentSite(t, fake, key)
	o := as.newOrg("agleak")
	id := as.activeAgent(o, "Leaky")
	as.runJobs(o.slug)
	var last string
	for i := 0; i < 5; i++ {
		last = o.run(t, o.owner, id, fmt.Sprintf("Attempt %d", i))
		if ex := as.waitExecution(o, last); ex.Status != store.ExecFailed || ex.ErrorRef == "" {
			t.Fatalf("run %d: %+v", i, ex)
		}
	}
	ex, _ := as.store.Execution(ctx, o.tenant, last)
	page := o.owner.get("/executions/" + last).Body
	var stored string
	as.store.DB.Get(&stored, o.tenant.SQL(`SELECT string_agg(coalesce(error, '') || ' ' || output, ' ') FROM {tenant}.agent_executions`))
	var logged string
	as.store.DB.Get(&logged, o.tenant.SQL(`SELECT coalesce(string_agg(message, ' '), '') FROM {tenant}.agent_execution_logs`))
	for what, s := range map[string]string{"page": page, "database": stored + logged, "server log": as.logs.String()} {
		if strings.Contains(s, key) || strings.Contains(s, "SECRET") {
			t.Errorf("the key shows in the %s", what)
		}
	}
	if !strings.Contains(page, ex.ErrorRef) || !strings.Contains(as.logs.String(), ex.ErrorRef) || !strings.Contains(as.logs.String(), "[redacted]") {
		t.Errorf("the reference %s must tie the page to the (redacted) log line", ex.ErrorRef)
	}
	a := as.waitAgentState(o, id, store.AgentError)
	if !strings.Contains(a.LastError, "5 runs in a row failed") {
		t.Errorf("reason %q", a.LastError)
	}
	// An agent in error no longer runs.
	wantStatus(t, o.owner.post("/agents/"+id+"/executions", url.Values{"input": {"again"}}), http.StatusUnprocessableEntity)
}

func TestMonthlyQuotaRefusesBeforeAnyProviderCall(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"fine"}, Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: 2}}
	})
	defer fake.Close()
	as := newAgentSite(t, fake, "")
	o := as.newOrg("agquota")
	id := as.activeAgent(o, "Spender")
	// The free tier's 100,000 tokens, used up earlier this month.
	as.store.DB.MustExec(o.tenant.SQL(`INSERT INTO {tenant}.usage_daily (day, agent_id, agent_name, executions, prompt_tokens)
		VALUES ((now() AT TIME ZONE 'UTC')::date, $1, 'Spender', 1, 100000)`), id)
	as.runJobs(o.slug)
	ex := as.waitExecution(o, o.run(t, o.owner, id, "One more?"))
	if ex.Status != store.ExecFailed || !ex.Refused || !strings.Contains(ex.Error, "monthly token limit") {
		t.Fatalf("over quota: %+v", ex)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the provider was called %d times", n)
	}
	if a, _ := as.store.AgentByID(ctx, o.tenant, id); a.ConsecutiveFailures != 0 {
		t.Errorf("a quota refusal counted as a failure: %d", a.ConsecutiveFailures)
	}
}
