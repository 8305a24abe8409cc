package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

// Skills give tools: a run is offered the tools of the skills enabled
// for its organization (and the read-only ones), never a tool that cannot
// work here; the skills page says which work and why the others do not.
func TestSkillsGiveToolsThatWork(t *testing.T) {
	t.Parallel()
	calls := 0
	fake := llmtest.New(func(r llmtest.Request) llmtest.Reply {
		calls++
		if calls == 1 {
			return llmtest.Call("c1", "ast_parse", `{"code":"package demo\nfunc Hello() {}\n"}`)
		}
		return llmtest.Reply{Chunks: []string{"It declares Hello."}, Usage: &llm.Usage{PromptTokens: 5, CompletionTokens: 3}}
	})
	defer fake.Close()
	as := newAgentSite(t, fake, "")
	o := as.newOrg("agtools")
	skill := "code-" + o.slug
	as.store.DB.MustExec(`INSERT INTO skills (name, slug, category, tools) VALUES ('Code', $1, 'coding', '{ast_parse,web_search,made_up}')`, skill)
	as.store.DB.MustExec(o.tenant.SQL(`INSERT INTO {tenant}.tenant_skills (skill_slug) VALUES ($1)`), skill)
	id := as.activeAgent(o, "Reviewer")
	as.runJobs(o.slug)

	ex := as.waitExecution(o, o.run(t, o.member, id, "What does this code declare?"))
	if ex.Status != store.ExecSucceeded || ex.Output != "It declares Hello." || fmt.Sprint(ex.ToolNames()) != "[ast_parse]" {
		t.Fatalf("run %+v", ex)
	}
	reqs := fake.Requests()
	offered := strings.Join(reqs[0].ToolNames(), ",")
	if !strings.Contains(offered, "ast_parse") || !strings.Contains(offered, "search_forum") ||
		strings.Contains(offered, "web_search") || strings.Contains(offered, "install_package") {
		t.Errorf("offered %s", offered)
	}
	// The tool's result went back to the model.
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	if last.Role != "tool" || !strings.Contains(last.Content, "func Hello") {
		t.Errorf("tool result sent back: %+v", last)
	}

	d := o.owner.get("/admin/skills").doc(t)
	tool := func(name string) string {
		return d.Find(`[data-testid=skill-row][data-slug="`+skill+`"] [data-tool="`+name+`"]`).AttrOr("data-available", "")
	}
	if tool("ast_parse") != "yes" || tool("web_search") != "no" || tool("made_up") != "no" {
		t.Errorf("skills page: ast_parse %q web_search %q made_up %q", tool("ast_parse"), tool("web_search"), tool("made_up"))
	}
	if !strings.Contains(text(d, `[data-slug="`+skill+`"] [data-tool="web_search"]`), "internet") {
		t.Error("an unavailable tool does not say why")
	}
}
