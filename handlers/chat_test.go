package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

// Without a provider the chat still works: the built-in responder says
// so plainly and understands typed commands; conversations persist.
func TestChatBuiltInResponder(t *testing.T) {
	t.Parallel()
	cs := newChatSite(t, nil, nil)
	o := cs.newChatOrg("chatnp")
	c := o.owner

	d := c.get("/chat").doc(t)
	if d.Find("[data-testid=chat-no-provider]").Length() != 1 {
		t.Error("the index does not say no provider is configured")
	}
	if d.Find(`#agent_id option[value="`+o.agentID+`"]`).Length() != 1 || d.Find(`#agent_id option[value=builtin]`).Length() != 1 {
		t.Errorf("agent options: %s", d.Find("#agent_id").Text())
	}
	wantStatus(t, c.post("/chat", url.Values{"agent_id": {"00000000-0000-4000-8000-000000000000"}}), http.StatusUnprocessableEntity)
	conv := cs.startChat(c, o.agentID)

	for _, tc := range []struct{ body, want string }{
		{"hello there", "found nothing in this organization's forum"},
		{"/help", "/install <slug>"},
		{"/agents", "Helper (@helper, active)"},
		{"/packages", "starter-agents"},
		{"/threads", "no forum threads"},
		{"/install no-such-package", `There is no package "no-such-package"`},
		{"/lock not-a-thread", "There is no thread"},
	} {
		// A plain post: 303, and the page it lands on has the answer.
		r := c.post("/chat/"+conv+"/messages", url.Values{"body": {tc.body}})
		wantStatus(t, r, http.StatusSeeOther)
		if !strings.HasPrefix(r.Header.Get("Location"), "/chat/"+conv+"#chat-msg-") {
			t.Fatalf("redirected to %q", r.Header.Get("Location"))
		}
		doc := c.get("/chat/" + conv).doc(t)
		last := doc.Find(`[data-testid=chat-message][data-role=assistant]`).Last()
		if st, _ := last.Attr("data-status"); st != store.ChatComplete {
			t.Fatalf("%s: answer status %q", tc.body, st)
		}
		if got := last.Find("[data-testid=chat-text]").Text(); !strings.Contains(got, tc.want) {
			t.Errorf("%s: answer %q lacks %q", tc.body, got, tc.want)
		}
	}
	// Persisted, titled by the first message, listed on the index.
	d = c.get("/chat").doc(t)
	if got := text(d, "[data-testid=chat-conversation] a"); got != "hello there" {
		t.Errorf("conversation listed as %q", got)
	}
	if n := len(cs.answers(o.tenant, conv)); n != 7 {
		t.Errorf("%d answers stored, want 7", n)
	}
	// Typed commands cost nothing; the built-in responder's one answer
	// to free text counts its estimated tokens (characters / 4).
	a, _ := cs.store.AgentByID(ctx, o.tenant, o.agentID)
	var estimated int64
	cs.store.DB.Get(&estimated, o.tenant.SQL(`SELECT sum(prompt_tokens + completion_tokens) FROM {tenant}.agent_executions WHERE provider = 'built-in'`))
	if a.RequestCount != 1 || a.TokenCount != estimated || estimated == 0 {
		t.Errorf("agent counters %d requests %d tokens, want 1 and %d", a.RequestCount, a.TokenCount, estimated)
	}
}

// An empty message is refused with 422 and the form kept; with htmx the
// composer is re-rendered in place.
func TestChatEmptyMessage(t *testing.T) {
	t.Parallel()
	cs := newChatSite(t, nil, nil)
	o := cs.newChatOrg("chatempty")
	conv := cs.startChat(o.owner, o.agentID)
	r := o.owner.post("/chat/"+conv+"/messages", url.Values{"body": {"   "}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := r.doc(t)
	if text(d, "[data-testid=chat-body-error]") == "" {
		t.Error("no message for the empty body")
	}
	if d.Find("#chat-form textarea#body").Length() != 1 {
		t.Error("the form is not shown again")
	}
	r = say(o.owner, conv, "")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if r.Header.Get("HX-Retarget") != "#chat-form" || r.doc(t).Find("#chat-form [data-testid=chat-body-error]").Length() != 1 {
		t.Errorf("htmx refusal: retarget %q\n%s", r.Header.Get("HX-Retarget"), r.Body)
	}
	msgs, _ := cs.store.ChatMessages(ctx, o.tenant, conv)
	if len(msgs) != 0 {
		t.Errorf("%d messages stored for empty posts", len(msgs))
	}
}

// The answer streams token by token into the conversation's SSE topic,
// then the finished message replaces the bubble; usage is recorded on the
// message and the agent; the agent's system prompt and config drive the
// request.
func TestChatStreamsOverSSE(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	cs := newChatSite(t, func(llmtest.Request) llmtest.Reply {
		r := llmtest.Text("Hel", "lo ", "**wor", "ld** <&>")
		r.Gate, r.GateAt = gate, 2
		return r
	}, nil)
	o := cs.newChatOrg("chatsse")
	conv := cs.startChat(o.owner, o.agentID)
	s1 := cs.follow(o.owner, conv)

	r := say(o.owner, conv, "hi")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	bubbles := d.Find("[data-testid=chat-message]")
	if bubbles.Length() != 2 || bubbles.Last().AttrOr("data-status", "") != store.ChatStreaming {
		t.Fatalf("htmx answer:\n%s", r.Body)
	}
	answerID := strings.TrimPrefix(bubbles.Last().AttrOr("id", ""), "chat-msg-")

	var shown1, shown2 string
	for _, ev := range s1.bubbleText(t, answerID, "Hello ", &shown1) {
		if _, err := strconv.ParseInt(ev.ID, 10, 64); err != nil {
			t.Errorf("delta id %q is not the stream's cursor", ev.ID)
		}
	}
	// A second page joins while the model pauses: once live it gets the
	// text so far (a snapshot replacing the bubble), then increments.
	s2 := cs.follow(o.owner, conv)
	s2.bubbleText(t, answerID, "Hello ", &shown2)
	close(gate)
	deltas := s1.bubbleText(t, answerID, "Hello **world** <&>", &shown1)
	if len(deltas) != 2 || !strings.HasSuffix(deltas[1].Data, `>ld** &lt;&amp;&gt;</span>`) {
		t.Fatalf("deltas after the pause: %+v", deltas)
	}
	s2.bubbleText(t, answerID, "Hello **world** <&>", &shown2)
	done := s1.completed(t, store.ChatComplete)
	if !strings.Contains(done.Data, "Hello <strong>world</strong> &lt;&amp;&gt;") || !strings.Contains(done.Data, `hx-swap-oob="outerHTML"`) {
		t.Fatalf("completed: %q", done.Data)
	}
	s2.completed(t, store.ChatComplete)

	m := cs.answers(o.tenant, conv)[0]
	if m.Content != "Hello **world** <&>" || m.PromptTokens != 10 || m.OutputTokens != 4 || m.Model != "fake-model" {
		t.Errorf("stored answer %+v", m)
	}
	a, _ := cs.store.AgentByID(ctx, o.tenant, o.agentID)
	if a.TokenCount != 14 || a.RequestCount != 1 {
		t.Errorf("agent counters tokens %d requests %d", a.TokenCount, a.RequestCount)
	}
	req := cs.fake.Requests()[0]
	if req.Auth != "Bearer test-key" || req.Model != "fake-model" || req.MaxTokens != 4096 || req.Temperature == nil || *req.Temperature != 0.7 {
		t.Errorf("request settings %+v", req)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || !strings.Contains(req.Messages[0].Content, "You are the helper of "+o.slug) ||
		req.Messages[1].Role != "user" || req.Messages[1].Content != "hi" {
		t.Errorf("request messages %+v", req.Messages)
	}
	// The page, reloaded, shows the finished answer rendered.
	doc := o.owner.get("/chat/" + conv).doc(t)
	if got := text(doc, "#chat-msg-"+answerID+" [data-testid=chat-text]"); got != "Hello world <&>" {
		t.Errorf("reloaded answer %q", got)
	}
	// Signals name the message, never its text.
	sigs, _ := cs.store.LatestSignals(ctx, o.tenant, 50)
	created := 0
	for _, sig := range sigs {
		if strings.Contains(string(sig.Payload), "hi") && strings.Contains(string(sig.Payload), `"hi"`) {
			t.Errorf("signal %s carries message text: %s", sig.Name, sig.Payload)
		}
		if sig.Name == "chat.message.created" && sig.ActorType == "user" && sig.SubjectType == store.SubjectChatMessage {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d chat.message.created by the user", created)
	}
}

// Stop cancels the generation, and the cancellation reaches the
// provider's request; what was streamed is kept; Retry answers again and
// the stopped answer stays in the history.
func TestChatStopAndRetry(t *testing.T) {
	t.Parallel()
	hang := true
	cs := newChatSite(t, func(llmtest.Request) llmtest.Reply {
		if hang {
			return llmtest.Reply{Chunks: []string{"partial"}, Hang: true}
		}
		return llmtest.Text("second", " try")
	}, nil)
	o := cs.newChatOrg("chatstop")
	conv := cs.startChat(o.owner, o.agentID)
	s := cs.follow(o.owner, conv)
	r := say(o.owner, conv, "go")
	wantStatus(t, r, http.StatusOK)
	answerID := strings.TrimPrefix(r.doc(t).Find("[data-testid=chat-message]").Last().AttrOr("id", ""), "chat-msg-")
	var shown string
	s.bubbleText(t, answerID, "partial", &shown)

	// Mid-answer, a reload shows the partial text with a Reload link and
	// a Stop button (the page without JavaScript).
	doc := o.owner.get("/chat/" + conv).doc(t)
	if doc.Find("[data-testid=chat-answering] a").Length() != 1 || doc.Find("[data-testid=chat-stop]").Length() != 1 {
		t.Error("an answer in progress shows no Reload link or Stop button")
	}
	r = o.owner.post("/chat/"+conv+"/stop", nil)
	wantStatus(t, r, http.StatusSeeOther)
	select {
	case <-cs.fake.Disconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("stop did not cancel the provider request")
	}
	s.completed(t, store.ChatStopped)
	m := cs.answers(o.tenant, conv)[0]
	if m.Status != store.ChatStopped || m.Content != "partial" {
		t.Fatalf("stopped answer %+v", m)
	}
	doc = o.owner.get("/chat/" + conv).doc(t)
	if doc.Find("[data-testid=chat-retry]").Length() != 1 || doc.Find("[data-testid=chat-stopped]").Length() != 1 {
		t.Fatal("a stopped answer offers no Retry")
	}

	hang = false
	wantStatus(t, o.owner.post("/chat/"+conv+"/retry", url.Values{"x": {"1"}}, "HX-Request", "true"), http.StatusOK)
	s.completed(t, store.ChatComplete)
	ans := cs.answers(o.tenant, conv)
	if len(ans) != 2 || ans[0].Status != store.ChatStopped || ans[1].Content != "second try" {
		t.Fatalf("answers after retry %+v", ans)
	}
	// The stopped answer is part of the history the model sees.
	reqs := cs.fake.Requests()
	last := reqs[len(reqs)-1].Messages
	if last[len(last)-1].Role != "assistant" || last[len(last)-1].Content != "partial" {
		t.Errorf("retry request messages %+v", last)
	}
	// Nothing left to retry now.
	wantStatus(t, o.owner.post("/chat/"+conv+"/retry", nil), http.StatusUnprocessableEntity)
}

// A provider that errors or goes silent gives a clear failed answer with
// Retry; the user's message is kept.
func TestChatProviderFailures(t *testing.T) {
	t.Parallel()
	mode := "500"
	cs := newChatSite(t, func(llmtest.Request) llmtest.Reply {
		switch mode {
		case "500":
			return llmtest.Reply{Status: http.StatusInternalServerError, ErrorMessage: "model overloaded"}
		case "slow":
			return llmtest.Reply{Chunks: []string{"thinking"}, Hang: true}
		}
		return llmtest.Text("fine")
	}, func(c *llm.Config) { c.IdleTimeout = 300 * time.Millisecond })
	o := cs.newChatOrg("chatfail")
	conv := cs.startChat(o.owner, o.agentID)
	s := cs.follow(o.owner, conv)

	wantStatus(t, say(o.owner, conv, "first question"), http.StatusOK)
	// The provider's own words never reach the page: a plain message and
	// a reference to the (redacted) log line.
	ev := s.completed(t, store.ChatFailed)
	if strings.Contains(ev.Data, "model overloaded") || !strings.Contains(ev.Data, "answered with an error. Reference ex-") ||
		!strings.Contains(ev.Data, `data-testid="chat-retry"`) {
		t.Fatalf("failed answer: %q", ev.Data)
	}

	mode = "slow"
	wantStatus(t, o.owner.post("/chat/"+conv+"/retry", nil, "HX-Request", "true"), http.StatusOK)
	ev = s.completed(t, store.ChatFailed)
	if !strings.Contains(ev.Data, "timed out") {
		t.Fatalf("timed-out answer: %q", ev.Data)
	}
	ans := cs.answers(o.tenant, conv)
	if ans[1].Content != "thinking" {
		t.Errorf("partial text of the timed-out answer %q", ans[1].Content)
	}

	mode = "ok"
	wantStatus(t, o.owner.post("/chat/"+conv+"/retry", nil), http.StatusSeeOther)
	doc := o.owner.get("/chat/" + conv).doc(t)
	var roles, statuses []string
	doc.Find("[data-testid=chat-message]").Each(func(_ int, m *goquery.Selection) {
		roles = append(roles, m.AttrOr("data-role", ""))
		statuses = append(statuses, m.AttrOr("data-status", ""))
	})
	if strings.Join(roles, ",") != "user,assistant,assistant,assistant" || strings.Join(statuses, ",") != "complete,failed,failed,complete" {
		t.Fatalf("history roles %v statuses %v", roles, statuses)
	}
	if got := text(doc, "[data-testid=chat-message][data-role=user] [data-testid=chat-text]"); got != "first question" {
		t.Errorf("user message %q", got)
	}
	// The failed answers are not sent back to the model as if they were answers.
	reqs := cs.fake.Requests()
	for _, m := range reqs[len(reqs)-1].Messages {
		if m.Role == "assistant" {
			t.Errorf("failed answer sent as history: %+v", m)
		}
	}
}
