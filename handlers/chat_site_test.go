package handlers_test

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// chatSite is the app with its live hub, the directive executors chat
// confirms into, and (when a script is given) a fake model provider: the
// one thing the chat tests fake.
type chatSite struct {
	*site
	fake *llmtest.Server
}

func newChatSite(t *testing.T, script func(llmtest.Request) llmtest.Reply, tune func(*llm.Config)) *chatSite {
	t.Helper()
	st := storetest.Store(t)
	if err := st.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	cs := &chatSite{}
	sc := siteConfig{store: st, live: true, writeTimeout: 10 * time.Second, directives: allKinds, agents: true}
	if os.Getenv("CHAT_TEST_LOG") != "" {
		sc.logTo = os.Stderr
	}
	if script != nil {
		cs.fake = llmtest.New(script)
		t.Cleanup(cs.fake.Close)
		cfg := llm.Config{BaseURL: cs.fake.BaseURL(), APIKey: "test-key", Model: "fake-model"}
		if tune != nil {
			tune(&cfg)
		}
		sc.llm = llm.New(cfg)
	}
	cs.site = startSite(t, sc)
	return cs
}

// waitDirective waits, woken by the runner's events, until the
// directive has finished.
func (cs *chatSite) waitDirective(tn store.Tenant, id string) store.Directive {
	t := cs.t
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		d, err := cs.store.Directive(ctx, tn, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Finished() {
			return d
		}
		select {
		case <-cs.events:
		case <-time.After(100 * time.Millisecond): // finished before we listened
		case <-timeout:
			t.Fatalf("directive %s unfinished: %+v", id, d)
		}
	}
}

// chatOrg is an organization with an owner and one agent.
type chatOrg struct {
	slug    string
	tenant  store.Tenant
	owner   *client
	agentID string
}

func (cs *chatSite) newChatOrg(prefix string) *chatOrg {
	t := cs.t
	t.Helper()
	o := &chatOrg{slug: storetest.Name(prefix), owner: cs.client()}
	o.owner.register(o.slug)
	o.tenant = tenantOf(t, cs.store, o.slug)
	err := cs.store.DB.GetContext(ctx, &o.agentID, o.tenant.SQL(`INSERT INTO {tenant}.agents (name, description, system_prompt, state)
		VALUES ('Helper', 'helps', $1, 'active') RETURNING id`), "You are the helper of "+o.slug+".")
	if err != nil {
		t.Fatal(err)
	}
	// Answers are executions of the agent engine, run by the job runner.
	cs.runJobs(o.slug)
	return o
}

// member adds a new user to the org with role and returns their client,
// switched to the org.
func (cs *chatSite) member(o *chatOrg, role string) *client {
	t := cs.t
	t.Helper()
	c := cs.client()
	own := storetest.Name("m")
	c.register(own)
	if _, err := cs.store.DB.ExecContext(ctx, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		SELECT o.id, u.id, $3, 'active' FROM organizations o, users u WHERE o.slug = $1 AND lower(u.email) = $2`, o.slug, own+"@example.com", role); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.post("/org/select", url.Values{"slug": {o.slug}}), http.StatusSeeOther)
	return c
}

// startChat starts a conversation with the org's agent and returns its id.
func (cs *chatSite) startChat(c *client, agentID string) string {
	t := cs.t
	t.Helper()
	r := c.post("/chat", url.Values{"agent_id": {agentID}})
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/chat/") {
		t.Fatalf("conversation at %q", loc)
	}
	return strings.TrimPrefix(loc, "/chat/")
}

// follow opens the conversation's live stream from its page's seq.
func (cs *chatSite) follow(c *client, convID string) *eventStream {
	cs.t.Helper()
	r := c.get("/chat/" + convID)
	wantStatus(cs.t, r, http.StatusOK)
	seq, _ := r.doc(cs.t).Find("#chat").Attr("data-seq")
	return c.stream(cs.t, "/events?topic=chat:"+convID+"&last_event_id="+seq)
}

// say posts a message as htmx would, and returns the response.
func say(c *client, convID, body string) *response {
	return c.post("/chat/"+convID+"/messages", url.Values{"body": {body}}, "HX-Request", "true")
}

// answers returns the conversation's assistant messages.
func (cs *chatSite) answers(tn store.Tenant, convID string) []store.ChatMessage {
	cs.t.Helper()
	msgs, err := cs.store.ChatMessages(ctx, tn, convID)
	if err != nil {
		cs.t.Fatal(err)
	}
	var out []store.ChatMessage
	for _, m := range msgs {
		if m.Role == store.ChatAssistant {
			out = append(out, m)
		}
	}
	return out
}

// completed waits for the stream's next chat.message.completed of a
// message with status.
func (s *eventStream) completed(t *testing.T, status string) liveEvent {
	t.Helper()
	for {
		ev := s.next(t, "chat.message.completed")
		if strings.Contains(ev.Data, `data-status="`+status+`"`) {
			return ev
		}
	}
}

// bubbleText follows the stream as a page would for one answer's bubble
// (started and snapshot events set its text, deltas append) until it
// shows want. What it shows must always be a prefix of want. It returns
// the delta events seen.
func (s *eventStream) bubbleText(t *testing.T, msgID, want string, shown *string) []liveEvent {
	t.Helper()
	var deltas []liveEvent
	timeout := time.After(10 * time.Second)
	textOpen := `id="chat-msg-` + msgID + `-text" data-testid="chat-text">`
	for *shown != want {
		var ev liveEvent
		select {
		case ev = <-s.events:
		case <-s.ended:
			t.Fatalf("stream ended; bubble shows %q, want %q", *shown, want)
		case <-timeout:
			t.Fatalf("bubble shows %q after 10s, want %q", *shown, want)
		}
		switch ev.Name {
		case "agent.output.started", "agent.output.snapshot":
			// The last copy of the bubble in the event is the one that stays.
			i := strings.LastIndex(ev.Data, textOpen)
			if i < 0 {
				continue
			}
			rest := ev.Data[i+len(textOpen):]
			*shown = html.UnescapeString(rest[:strings.Index(rest, "</div>")])
		case "agent.output.delta":
			prefix := `<span hx-swap-oob="beforeend:#chat-msg-` + msgID + `-text">`
			if !strings.HasPrefix(ev.Data, prefix) {
				continue
			}
			*shown += html.UnescapeString(strings.TrimSuffix(strings.TrimPrefix(ev.Data, prefix), "</span>"))
			deltas = append(deltas, ev)
		default:
			continue
		}
		if !strings.HasPrefix(want, *shown) {
			t.Fatalf("bubble shows %q, not a prefix of %q", *shown, want)
		}
	}
	return deltas
}
