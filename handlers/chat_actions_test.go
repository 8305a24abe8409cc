package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

// The model looks packages up (a read-only tool, run at once), proposes
// an install (an action tool: a card, nothing more), and the owner's
// confirmation makes the marketplace's own package.install directive,
// which the runner carries out. Confirming again changes nothing.
func TestChatToolCallsProposeAndConfirmInstall(t *testing.T) {
	t.Parallel()
	cs := newChatSite(t, listThenInstall, nil)
	o := cs.newChatOrg("chattool")
	conv := cs.startChat(o.owner, o.agentID)
	s := cs.follow(o.owner, conv)
	wantStatus(t, say(o.owner, conv, "set me up with starter agents"), http.StatusOK)
	proposed := s.next(t, "chat.action.proposed")
	if !strings.Contains(proposed.Data, `data-testid="chat-action-confirm"`) {
		t.Fatalf("proposed card without a Confirm button: %q", proposed.Data)
	}
	for {
		ev := s.completed(t, store.ChatComplete)
		if strings.Contains(ev.Data, "confirm the card") {
			break
		}
	}

	checkToolLoopRequests(t, cs.fake.Requests())
	// Proposed only: nothing requested yet.
	if ds, _ := cs.store.DirectivesBySubjects(ctx, o.tenant, []store.Subject{{Type: "package", ID: "starter-agents"}}, 10); len(ds) != 0 {
		t.Fatalf("a proposal made %d directives", len(ds))
	}
	acts, _ := cs.store.ChatActions(ctx, o.tenant, conv)
	if len(acts) != 1 || acts[0].Kind != store.ActionInstallPackage || acts[0].Status != store.ActionProposed {
		t.Fatalf("actions %+v", acts)
	}
	act := acts[0]

	// The page shows the card under the answer that proposed it.
	doc := o.owner.get("/chat/" + conv).doc(t)
	card := doc.Find("#chat-msg-" + act.MessageID + " #chat-action-" + act.ID)
	if card.Length() != 1 || card.Find("input[name=idempotency_key]").AttrOr("value", "") != act.IdempotencyKey {
		t.Fatal("the card (with its idempotency key) is not under its answer")
	}

	// On the free tier the install is refused (agent limit) as the
	// marketplace refuses it: 422 with the reason, still proposed.
	r := o.owner.post("/chat/"+conv+"/actions/"+act.ID+"/confirm", url.Values{"idempotency_key": {act.IdempotencyKey}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := text(r.doc(t), "[data-testid=chat-action-error]"); !strings.Contains(got, "limit") {
		t.Errorf("refusal %q", got)
	}
	if _, err := cs.store.DB.ExecContext(ctx, `UPDATE organizations SET tier = 'pro' WHERE slug = $1`, o.slug); err != nil {
		t.Fatal(err)
	}
	r = o.owner.post("/chat/"+conv+"/actions/"+act.ID+"/confirm", url.Values{"idempotency_key": {act.IdempotencyKey}})
	wantStatus(t, r, http.StatusSeeOther)
	confirmed := s.next(t, "chat.action.confirmed")
	if !strings.Contains(confirmed.Data, `hx-swap-oob="outerHTML"`) {
		t.Errorf("confirmed card: %q", confirmed.Data)
	}
	act, _ = cs.store.ChatAction(ctx, o.tenant, conv, act.ID)
	if !act.Confirmed() || act.DirectiveID == "" {
		t.Fatalf("action after confirm %+v", act)
	}
	dir := cs.waitDirective(o.tenant, act.DirectiveID)
	if dir.Name != store.DirectivePackageInstall || dir.Status != store.DirectiveSucceeded || dir.IdempotencyKey != act.IdempotencyKey || dir.RequestedByUserID == 0 {
		t.Fatalf("directive %+v", dir)
	}
	st, _ := cs.store.InstallStateOf(ctx, o.tenant, "starter-agents")
	if !st.Installed() {
		t.Fatalf("starter-agents not installed: %+v", st)
	}
	// A second confirmation (a double click) returns the same directive.
	wantStatus(t, o.owner.post("/chat/"+conv+"/actions/"+act.ID+"/confirm", url.Values{"idempotency_key": {act.IdempotencyKey}},
		"HX-Request", "true"), http.StatusOK)
	if ds, _ := cs.store.DirectivesBySubjects(ctx, o.tenant, []store.Subject{{Type: "package", ID: "starter-agents"}}, 10); len(ds) != 1 {
		t.Errorf("%d directives after two confirmations", len(ds))
	}
	checkInstallConfirmed(t, cs, o, conv, act, dir)
}

// Confirming takes the role the rest of the app takes: a member cannot
// confirm an install (403, no directive) but can confirm a new thread,
// which goes through the forum.thread.create directive; an owner's typed
// /lock becomes the moderators' lock directive.
func TestChatConfirmRoles(t *testing.T) {
	t.Parallel()
	var catID string
	cs := newChatSite(t, func(r llmtest.Request) llmtest.Reply {
		if last := r.Messages[len(r.Messages)-1]; last.Role == "tool" {
			return llmtest.Text("Proposed.")
		}
		return llmtest.Call("c1", "create_thread", `{"category_id":"`+catID+`","title":"Chat made me","body":"Hello **forum**"}`)
	}, nil)
	o := cs.newChatOrg("chatrole")
	threadID, catSlug := o.owner.forumThread(t, o.tenant)
	cat, _ := cs.store.ForumCategoryBySlug(ctx, o.tenant, catSlug)
	catID = cat.ID

	m := cs.member(o, "member")
	conv := cs.startChat(m, o.agentID)
	wantStatus(t, m.post("/chat/"+conv+"/messages", url.Values{"body": {"/install starter-agents"}}), http.StatusSeeOther)
	acts, _ := cs.store.ChatActions(ctx, o.tenant, conv)
	if len(acts) != 1 {
		t.Fatalf("actions %+v", acts)
	}
	doc := m.get("/chat/" + conv).doc(t)
	if doc.Find("#chat-action-"+acts[0].ID+" [data-testid=chat-action-needs-admin]").Length() != 1 ||
		doc.Find("#chat-action-"+acts[0].ID+" [data-testid=chat-action-confirm]").Length() != 0 {
		t.Error("a member's install card offers Confirm")
	}
	wantStatus(t, m.post("/chat/"+conv+"/actions/"+acts[0].ID+"/confirm", url.Values{"idempotency_key": {acts[0].IdempotencyKey}}), http.StatusForbidden)
	if ds, _ := cs.store.DirectivesBySubjects(ctx, o.tenant, []store.Subject{{Type: "package", ID: "starter-agents"}}, 10); len(ds) != 0 {
		t.Fatalf("a member's confirmation made %d directives", len(ds))
	}

	// The model proposes a thread; the member may confirm that.
	s := cs.follow(m, conv)
	wantStatus(t, say(m, conv, "start a thread please"), http.StatusOK)
	s.next(t, "chat.action.proposed")
	acts, _ = cs.store.ChatActions(ctx, o.tenant, conv)
	create := acts[len(acts)-1]
	if create.Kind != store.ActionCreateThread {
		t.Fatalf("last action %+v", create)
	}
	wantStatus(t, m.post("/chat/"+conv+"/actions/"+create.ID+"/confirm", url.Values{"idempotency_key": {"someone-elses-key"}}), http.StatusConflict)
	wantStatus(t, m.post("/chat/"+conv+"/actions/"+create.ID+"/confirm", url.Values{"idempotency_key": {create.IdempotencyKey}}), http.StatusSeeOther)
	create, _ = cs.store.ChatAction(ctx, o.tenant, conv, create.ID)
	dir := cs.waitDirective(o.tenant, create.DirectiveID)
	if dir.Name != store.DirectiveThreadCreate || dir.Status != store.DirectiveSucceeded {
		t.Fatalf("thread directive %+v", dir)
	}
	threads, _, _ := cs.store.CategoryThreads(ctx, o.tenant, catID, 1)
	found := false
	for _, th := range threads {
		found = found || th.Title == "Chat made me" && th.CreatedByUserID.Valid
	}
	if !found {
		t.Fatalf("no thread created: %+v", threads)
	}

	// The owner locks the other thread with a typed command.
	oc := cs.startChat(o.owner, o.agentID)
	wantStatus(t, o.owner.post("/chat/"+oc+"/messages", url.Values{"body": {"/lock " + threadID}}), http.StatusSeeOther)
	acts, _ = cs.store.ChatActions(ctx, o.tenant, oc)
	if len(acts) != 1 || acts[0].Kind != store.ActionLockThread {
		t.Fatalf("lock actions %+v", acts)
	}
	wantStatus(t, o.owner.post("/chat/"+oc+"/actions/"+acts[0].ID+"/confirm", url.Values{"idempotency_key": {acts[0].IdempotencyKey}}), http.StatusSeeOther)
	lock, _ := cs.store.ChatAction(ctx, o.tenant, oc, acts[0].ID)
	if d := cs.waitDirective(o.tenant, lock.DirectiveID); d.Name != store.DirectiveThreadLock || d.Status != store.DirectiveSucceeded {
		t.Fatalf("lock directive %+v", d)
	}
	if th, _ := cs.store.ForumThread(ctx, o.tenant, threadID); th.Status != store.ThreadLocked {
		t.Errorf("thread status %s", th.Status)
	}
}

// A conversation is its owner's: another member of the same
// organization and a member of another organization get 404 on every
// chat route and on its live topic, and no one's prompt reaches anyone
// else's model request or page.
func TestChatIsolation(t *testing.T) {
	t.Parallel()
	cs := newChatSite(t, func(r llmtest.Request) llmtest.Reply { return llmtest.Text("ok") }, nil)
	a := cs.newChatOrg("chatisoa")
	b := cs.newChatOrg("chatisob")
	convA := cs.startChat(a.owner, a.agentID)
	sa := cs.follow(a.owner, convA)
	wantStatus(t, say(a.owner, convA, "secret-of-a"), http.StatusOK)
	sa.completed(t, store.ChatComplete)
	wantStatus(t, a.owner.post("/chat/"+convA+"/messages", url.Values{"body": {"/install starter-agents"}}), http.StatusSeeOther)
	acts, _ := cs.store.ChatActions(ctx, a.tenant, convA)
	actA := acts[0]

	colleague := cs.member(a, "admin")
	for name, c := range map[string]*client{"same org": colleague, "other org": b.owner} {
		for _, r := range []*response{
			c.get("/chat/" + convA),
			c.post("/chat/"+convA+"/messages", url.Values{"body": {"hi"}}),
			c.post("/chat/"+convA+"/stop", nil),
			c.post("/chat/"+convA+"/retry", nil),
			c.get("/chat/"+convA+"/actions/"+actA.ID, "HX-Request", "true"),
			c.post("/chat/"+convA+"/actions/"+actA.ID+"/confirm", url.Values{"idempotency_key": {actA.IdempotencyKey}}),
			c.get("/events?topic=chat:" + convA),
		} {
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %s %s = %d, want 404", name, r.Request.Method, r.Request.URL.Path, r.StatusCode)
			}
		}
		if strings.Contains(c.get("/chat").Body, "secret-of-a") {
			t.Errorf("%s sees A's conversation in the list", name)
		}
	}
	// Another conversation's action id under your own conversation is not found either.
	convB := cs.startChat(b.owner, b.agentID)
	wantStatus(t, b.owner.post("/chat/"+convB+"/actions/"+actA.ID+"/confirm", nil), http.StatusNotFound)
	wantStatus(t, b.owner.post("/chat", url.Values{"agent_id": {a.agentID}}), http.StatusUnprocessableEntity)

	// B's model never sees A's words; A's colleague's tenant stream gets
	// no chat signal at all (SPEC §17: private chat produces no events
	// visible to other members).
	tenantA := colleague.stream(t, "/events?topic=tenant")
	sb := cs.follow(b.owner, convB)
	wantStatus(t, say(b.owner, convB, "hello from b"), http.StatusOK)
	sb.completed(t, store.ChatComplete)
	for _, req := range cs.fake.Requests() {
		last := req.Messages[len(req.Messages)-1].Content
		for _, m := range req.Messages {
			if last == "hello from b" && strings.Contains(m.Content, "secret-of-a") {
				t.Fatalf("A's prompt in B's request: %+v", req.Messages)
			}
		}
	}
	own := cs.follow(a.owner, convA)
	wantStatus(t, a.owner.post("/chat/"+convA+"/messages", url.Values{"body": {"another-secret"}}, "HX-Request", "true"), http.StatusOK)
	own.completed(t, store.ChatComplete)
	tenantA.noChatBefore(t, a.owner)
	// Visitors are sent to sign in.
	visitor := cs.client()
	for _, r := range []*response{visitor.get("/chat"), visitor.get("/chat/" + convA), visitor.post("/chat", url.Values{"agent_id": {a.agentID}})} {
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("visitor %s %s: %d %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Header.Get("Location"))
		}
	}
}

// checkToolLoopRequests: the three provider rounds of the tool loop
// offered the tools and fed each tool's result back after its call.
func checkToolLoopRequests(t *testing.T, reqs []llmtest.Request) {
	t.Helper()
	if len(reqs) != 3 {
		t.Fatalf("%d provider requests, want 3", len(reqs))
	}
	if names := strings.Join(reqs[0].ToolNames(), ","); !strings.Contains(names, "install_package") || !strings.Contains(names, "list_threads") {
		t.Errorf("tools offered: %s", names)
	}
	second := reqs[1].Messages
	toolMsg := second[len(second)-1]
	if toolMsg.Role != "tool" || toolMsg.ToolCallID != "call_1" || !strings.Contains(toolMsg.Content, "starter-agents") {
		t.Fatalf("tool result fed back: %+v", toolMsg)
	}
	if prev := second[len(second)-2]; prev.Role != "assistant" || len(prev.ToolCalls) != 1 || prev.ToolCalls[0].Function.Name != "list_packages" {
		t.Fatalf("assistant tool call in history: %+v", prev)
	}
	third := reqs[2].Messages
	if res := third[len(third)-1].Content; !strings.Contains(res, "NOT happened yet") {
		t.Errorf("install tool result %q", res)
	}
}

// checkInstallConfirmed: after the confirmation the card says it is done,
// the signals name who proposed and who confirmed, and every round's
// tokens are on the agent.
func checkInstallConfirmed(t *testing.T, cs *chatSite, o *chatOrg, conv string, act store.ChatAction, dir store.Directive) {
	t.Helper()
	// The card, polled, says it is done.
	r := o.owner.get("/chat/"+conv+"/actions/"+act.ID, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if got := text(r.doc(t), "[data-testid=chat-action-outcome]"); !strings.Contains(got, "Installed: 3 agents created") {
		t.Errorf("card outcome %q", got)
	}
	// Signals: proposed by the agent, confirmed by the owner, about the action.
	sigs, _ := cs.store.SignalsBySubjects(ctx, o.tenant, []store.Subject{{Type: store.SubjectChatAction, ID: act.ID}}, 10)
	if len(sigs) != 2 || sigs[0].Name != "chat.action.proposed" || sigs[0].ActorType != "agent" ||
		sigs[1].Name != "chat.action.confirmed" || sigs[1].ActorType != "user" || sigs[1].CorrelationID != dir.ID {
		t.Errorf("action signals %+v", sigs)
	}
	// Tokens of all three rounds are on the agent.
	a, _ := cs.store.AgentByID(ctx, o.tenant, o.agentID)
	if a.RequestCount != 3 || a.TokenCount != 15+15+11 {
		t.Errorf("agent counters requests %d tokens %d", a.RequestCount, a.TokenCount)
	}
}

// listThenInstall is a provider that lists packages, then proposes
// installing Starter Agents, then says so: one tool call per round.
func listThenInstall(r llmtest.Request) llmtest.Reply {
	tools := 0
	for _, m := range r.Messages {
		if m.Role == "tool" {
			tools++
		}
	}
	switch tools {
	case 0:
		return llmtest.Call("call_1", "list_packages", `{"query":"starter"}`)
	case 1:
		return llmtest.Call("call_2", "install_package", `{"slug":"starter-agents"}`)
	}
	return llmtest.Text("I proposed installing Starter Agents; confirm the card.")
}
