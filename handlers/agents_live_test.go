package handlers_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

func newLiveAgentSite(t *testing.T, provider *llmtest.Server, remote ...bool) *agentSite {
	t.Helper()
	as := &agentSite{logs: &syncBuffer{}}
	sc := siteConfig{agents: true, live: true, writeTimeout: 10 * time.Second, directives: allKinds, logTo: as.logs,
		remoteOutput: len(remote) > 0 && remote[0]}
	if provider != nil {
		sc.llm = llm.New(llm.Config{BaseURL: provider.BaseURL(), Model: "fake-model"})
	}
	as.site = startSite(t, sc)
	return as
}

// The execution page follows its run live: the text as it streams (a
// page that joins mid-answer first gets all of it), then the finished
// panel. Another member sees a run like any page of the organization;
// another organization's caller gets 404 for the page and the topic.
func TestExecutionStreamsToItsPage(t *testing.T) {
	t.Parallel()
	t.Run("same process", func(t *testing.T) { t.Parallel(); testExecutionStreams(t, false) })
	// Written by a worker elsewhere: the output crosses over NOTIFY.
	t.Run("another process", func(t *testing.T) { t.Parallel(); testExecutionStreams(t, true) })
}

func testExecutionStreams(t *testing.T, remote bool) {
	gate := make(chan struct{})
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		r := llmtest.Reply{Chunks: []string{"Three ", "short ", "words & more"}, Usage: &llm.Usage{PromptTokens: 4, CompletionTokens: 3}}
		r.Gate, r.GateAt = gate, 2
		return r
	})
	defer fake.Close()
	as := newLiveAgentSite(t, fake, remote)
	o := as.newOrg("aglive")
	id := as.activeAgent(o, "Streamer")
	as.runJobs(o.slug)
	exID := o.run(t, o.owner, id, "Say three words")

	page := o.member.get("/executions/" + exID)
	wantStatus(t, page, http.StatusOK)
	seq := page.doc(t).Find("[data-testid=execution]").AttrOr("data-seq", "")
	s := o.member.stream(t, "/events?topic=execution:"+exID+"&last_event_id="+seq)
	target := `exec-` + exID + `-output`
	shown := ""
	var done liveEvent
	for shown != "Three short " {
		ev := s.nextOf(t, "agent.output.started", "agent.output.snapshot", "agent.output.delta")
		shown = applyText(t, ev, target, shown)
	}
	close(gate)
	for shown != "Three short words & more" {
		ev := s.nextOf(t, "agent.output.delta", "agent.output.snapshot", "agent.execution.succeeded")
		if ev.Name == "agent.execution.succeeded" {
			t.Fatalf("the outcome came before the last words (%q shown)", shown)
		}
		shown = applyText(t, ev, target, shown)
	}
	done = s.next(t, "agent.execution.succeeded")
	if !strings.Contains(done.Data, `id="execution-panel"`) || !strings.Contains(done.Data, "succeeded") || !strings.Contains(done.Data, "words &amp; more") {
		t.Errorf("finished panel: %s", done.Data)
	}

	b := as.newOrg("aglivb")
	wantStatus(t, b.owner.get("/events?topic=execution:"+exID), http.StatusNotFound)
	wantStatus(t, b.owner.get("/executions/"+exID), http.StatusNotFound)
}

// applyText plays one streaming event onto the text shown in target.
func applyText(t *testing.T, ev liveEvent, target, shown string) string {
	t.Helper()
	switch ev.Name {
	case "agent.output.started", "agent.output.snapshot":
		open := `<span id="` + target + `" class="streamed" hx-swap-oob="outerHTML">`
		i := strings.Index(ev.Data, open)
		if i < 0 {
			return shown
		}
		rest := ev.Data[i+len(open):]
		return html.UnescapeString(rest[:strings.Index(rest, "</span>")])
	case "agent.output.delta":
		prefix := `<span hx-swap-oob="beforeend:#` + target + `">`
		if !strings.HasPrefix(ev.Data, prefix) {
			return shown
		}
		return shown + html.UnescapeString(strings.TrimSuffix(strings.TrimPrefix(ev.Data, prefix), "</span>"))
	}
	return shown
}

// A chat answer's run is its conversation owner's alone: another member
// of the same organization gets 404 for its page and its topic.
func TestChatExecutionsArePrivate(t *testing.T) {
	t.Parallel()
	as := newLiveAgentSite(t, nil)
	o := as.newOrg("agpriv")
	id := as.activeAgent(o, "Confidant")
	as.runJobs(o.slug)
	conv := strings.TrimPrefix(o.owner.post("/chat", map[string][]string{"agent_id": {id}}).Header.Get("Location"), "/chat/")
	wantStatus(t, o.owner.post("/chat/"+conv+"/messages", map[string][]string{"body": {"a private question"}}), http.StatusSeeOther)
	var exID string
	deadline := time.Now().Add(10 * time.Second)
	for exID == "" && time.Now().Before(deadline) {
		as.store.DB.Get(&exID, o.tenant.SQL(`SELECT id::text FROM {tenant}.agent_executions WHERE purpose = 'chat' LIMIT 1`))
		time.Sleep(20 * time.Millisecond)
	}
	ex := as.waitExecution(o, exID)
	if ex.Purpose != store.PurposeChat || ex.Status != store.ExecSucceeded {
		t.Fatalf("chat run %+v", ex)
	}
	wantStatus(t, o.owner.get("/executions/"+exID), http.StatusOK)
	wantStatus(t, o.member.get("/executions/"+exID), http.StatusNotFound)
	wantStatus(t, o.member.get("/events?topic=execution:"+exID), http.StatusNotFound)
	// Nor do chat runs show among the agent's runs or the recent ones.
	if strings.Contains(o.member.get("/agents/"+id).Body, exID) || strings.Contains(o.member.get("/agents").Body, exID) {
		t.Error("a chat run is listed to another member")
	}
}

// nextOf waits for the next event named one of names.
func (s *eventStream) nextOf(t *testing.T, names ...string) liveEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.events:
			for _, n := range names {
				if ev.Name == n {
					return ev
				}
			}
		case <-s.ended:
			t.Fatalf("stream ended waiting for %v", names)
		case <-timeout:
			t.Fatalf("no %v event within 10s", names)
		}
	}
}
