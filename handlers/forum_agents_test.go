package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetprompt/store"
)

// threadAgentPosts lists the agents' posts of a thread.
func (as *agentSite) threadAgentPosts(o *agentOrg, threadID string) []store.ForumPost {
	as.t.Helper()
	var out []store.ForumPost
	as.store.DB.Select(&out, o.tenant.SQL(`SELECT id, thread_id, content, status, author_type, author_id, execution_id::text AS execution_id,
		created_at, updated_at, '' AS author_name FROM {tenant}.forum_posts WHERE thread_id = $1 AND author_type = 'agent' ORDER BY created_at`), threadID)
	return out
}

func (as *agentSite) waitAgentPosts(o *agentOrg, threadID string, n int) []store.ForumPost {
	as.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ps := as.threadAgentPosts(o, threadID)
		if len(ps) >= n {
			return ps
		}
		if time.Now().After(deadline) {
			as.t.Fatalf("%d agent posts in the thread, want %d", len(ps), n)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// An @mention of an active agent in a person's post asks it to answer in
// the thread: the answer streams into the open thread, then is posted as
// the agent with a badge and a link to its run. Agents' own posts never
// trigger mentions; an agent that is not active is not asked.
func TestMentionedAgentAnswersInTheThread(t *testing.T) {
	t.Parallel()
	as := newLiveAgentSite(t, nil)
	o := as.newOrg("agment")
	help := as.forumPost(o, "Coffee machine guide", "Descale the coffee machine every month with the blue tablets.")
	helper := as.activeAgent(o, "Office Helper")
	as.store.DB.MustExec(o.tenant.SQL(`INSERT INTO {tenant}.agents (name) VALUES ('Sleepy')`)) // a draft
	as.runJobs(o.slug)
	th := as.forumPost(o, "Machine question", "Where do I start?")
	page := o.member.get("/forums/t/" + th.ID)
	seq := page.doc(t).Find("[data-seq]").First().AttrOr("data-seq", "")
	s := o.member.stream(t, "/events?topic=thread:"+th.ID+"&last_event_id="+seq)

	r := o.member.post("/forums/t/"+th.ID+"/replies", url.Values{"body": {"@office-helper how often should I descale the coffee machine? cc @sleepy"}})
	wantStatus(t, r, http.StatusSeeOther)
	started := s.nextOf(t, "agent.output.started")
	if !strings.Contains(started.Data, `data-testid="agent-answering"`) || !strings.Contains(started.Data, "Office Helper") {
		t.Errorf("the answer does not start in the thread: %s", started.Data)
	}
	ps := as.waitAgentPosts(o, th.ID, 1)
	if !strings.Contains(ps[0].Content, "blue tablets") || !strings.Contains(ps[0].Content, help.ID) || !ps[0].ExecutionID.Valid {
		t.Fatalf("agent's post %+v", ps[0])
	}
	created := s.next(t, "forum.post.created")
	for !strings.Contains(created.Data, "agent-badge") {
		created = s.next(t, "forum.post.created")
	}
	if !strings.Contains(created.Data, `hx-swap-oob="delete"`) {
		t.Error("the streamed answer is not replaced by the post")
	}
	d := o.member.get("/forums/t/" + th.ID).doc(t)
	post := d.Find(`#post-` + ps[0].ID)
	if post.Find("[data-testid=agent-badge]").Length() != 1 || post.Find(`a[href="/executions/`+ps[0].ExecutionID.String+`"]`).Length() != 1 {
		t.Errorf("the agent's post shows no badge or run link: %s", post.Text())
	}
	names := signalNamesOf(t, as.store, o.tenant, "forum.agent.")
	if names != "forum.agent.reply.requested forum.agent.reply.posted" {
		t.Errorf("signals %q (the draft agent must not be asked)", names)
	}
	// The agent's own post mentions nobody: one answer, no loop.
	time.Sleep(300 * time.Millisecond)
	if n := len(as.threadAgentPosts(o, th.ID)); n != 1 || helper == "" {
		t.Errorf("%d agent posts", n)
	}
}

// Moderators ask an agent from the thread; members may not.
func TestAskAnAgent(t *testing.T) {
	t.Parallel()
	as := newLiveAgentSite(t, nil)
	o := as.newOrg("agask")
	id := as.activeAgent(o, "Answerer")
	as.runJobs(o.slug)
	th := as.forumPost(o, "Open question", "Anyone?")
	if o.owner.get("/forums/t/"+th.ID).doc(t).Find(`[data-testid=ask-agent]`).Length() != 1 {
		t.Error("no Ask an agent link for a moderator")
	}
	wantStatus(t, o.member.get("/forums/t/"+th.ID+"/ask"), http.StatusForbidden)
	wantStatus(t, o.owner.post("/forums/t/"+th.ID+"/ask", url.Values{"agent_id": {id}, "question": {""}}), http.StatusUnprocessableEntity)
	d := o.owner.get("/forums/t/" + th.ID + "/ask").doc(t)
	key := d.Find(`input[name=idempotency_key]`).AttrOr("value", "")
	form := url.Values{"agent_id": {id}, "question": {"Is anyone there?"}, "idempotency_key": {key}}
	wantStatus(t, o.owner.post("/forums/t/"+th.ID+"/ask", form), http.StatusSeeOther)
	wantStatus(t, o.owner.post("/forums/t/"+th.ID+"/ask", form), http.StatusSeeOther) // resent: one answer
	as.waitAgentPosts(o, th.ID, 1)
	time.Sleep(300 * time.Millisecond)
	if n := len(as.threadAgentPosts(o, th.ID)); n != 1 {
		t.Errorf("%d answers for one question", n)
	}
}
