package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fleetprompt/jobs/agent/llm"
	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store/storetest"
)

// The answer the fake provider streams for a run, a word at a time.
var runAnswer = strings.Fields("Our refund policy allows a full refund within thirty days of purchase, " +
	"no questions asked, and a partial refund after that when the plan was barely used.")

// agentProvider is the model provider the app talks to in the agents
// journey: a fake OpenAI-compatible server in this process. A deploy's
// check waits at deployGate (so the page can be seen saying "deploying");
// a run streams runAnswer slowly enough (gap per word) that the page can
// be watched filling in.
func agentProvider(t *testing.T, deployGate chan struct{}, gap time.Duration) *llmtest.Server {
	t.Helper()
	fake := llmtest.New(func(r llmtest.Request) llmtest.Reply {
		last := r.Messages[len(r.Messages)-1].Content
		if strings.Contains(last, "deployment check") {
			rep := llmtest.Text("Ready to help.")
			rep.Gate, rep.GateAt = deployGate, 0
			return rep
		}
		words := make([]string, len(runAnswer))
		for i, w := range runAnswer {
			words[i] = w + " "
		}
		return llmtest.Reply{Chunks: words, Delay: gap, Usage: &llm.Usage{PromptTokens: 40, CompletionTokens: len(words), TotalTokens: 40 + len(words)}}
	})
	t.Cleanup(fake.Close)
	return fake
}

// TestAgentJourney: the owner of a new organization creates an agent with
// the form, deploys it (the page says deploying, then active), runs it
// and watches the answer stream into the run's page without a reload,
// then sees the usage chart and the agent's row; a second browser with
// JavaScript off makes the same run and its page refreshes itself until
// the answer is there.
func TestAgentJourney(t *testing.T) {
	deployGate := make(chan struct{})
	fake := agentProvider(t, deployGate, 150*time.Millisecond)
	a := startApp(t, "LLM_BASE_URL="+fake.BaseURL(), "LLM_MODEL=fake-model")
	slug := storetest.Name("e2eagent")
	ctx := browser(t)
	registerOwner(t, ctx, a, "Agents Journey", slug)

	agentID := createAgentWithForm(t, ctx, a, "Refund Helper")
	deployAgent(t, ctx, deployGate)

	// Run it; the run's page fills in live.
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid=run-form] #input`), "What is our refund policy?"),
		chromedp.Click(chromedp.CSS(`[data-testid=run-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=execution]`)),
	)
	markDocument(t, ctx)
	exID := attr(t, ctx, `[data-testid=execution]`, "data-id")
	seen := watchOutput(t, ctx, exID, 20*time.Second)
	if len(seen) < 2 {
		t.Fatalf("the answer did not grow on the open page before the run finished: saw %q", seen)
	}
	t.Logf("the open page showed the answer growing %d times before the run finished", len(seen))
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid=execution-status].exec-succeeded`)))
	want := strings.Join(runAnswer, " ")
	if got := textOf(t, ctx, `[data-testid=execution-output]`); !strings.Contains(got, want) {
		t.Errorf("finished answer %q, want it to contain %q", got, want)
	}
	if !sameDocument(t, ctx) {
		t.Error("the run's page reloaded: the answer should stream in place")
	}

	// The usage page: the chart has bars and the agent has its row.
	do(t, ctx,
		chromedp.Navigate(a.URL+"/admin/usage"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=usage-chart]`)),
	)
	if n := elementCount(t, ctx, `[data-testid=usage-chart] svg rect`); n == 0 {
		t.Error("the usage chart draws no bars")
	}
	row := `[data-testid=usage-row][data-agent="` + agentID + `"]`
	if got := textOf(t, ctx, row); !strings.Contains(got, "Refund Helper") {
		t.Errorf("usage row %q, want the agent's name", got)
	}

	t.Run("without JavaScript", func(t *testing.T) {
		plain := browser(t)
		disableJS(t, plain)
		signInTo(t, plain, a, slug+"@example.com", "/agents/"+agentID, `[data-testid=run-form]`)
		do(t, plain,
			chromedp.SendKeys(chromedp.CSS(`[data-testid=run-form] #input`), "What is our refund policy, again?"),
			chromedp.Click(chromedp.CSS(`[data-testid=run-form] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=execution]`)),
		)
		if st := textOf(t, plain, `[data-testid=execution-status]`); st != "queued" && st != "running" {
			t.Fatalf("the run's first page shows %q: the answer should still be on its way", st)
		}
		markDocument(t, plain) // gone once the page refreshes itself
		if st := waitStatus(t, plain, 25*time.Second); st != "succeeded" {
			t.Fatalf("the page without JavaScript ended at %q", st)
		}
		if sameDocument(t, plain) {
			t.Error("the run finished but the page never refreshed itself")
		}
		if got := textOf(t, plain, `[data-testid=execution-output]`); !strings.Contains(got, want) {
			t.Errorf("answer without JavaScript %q, want %q", got, want)
		}
	})
}

// registerOwner registers an organization in the tab; its owner is
// signed in on the dashboard afterwards.
func registerOwner(t *testing.T, ctx context.Context, a *app, orgName, slug string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(a.URL+"/register"),
		chromedp.WaitVisible(chromedp.CSS(`#register-form`)),
		chromedp.SendKeys(chromedp.CSS(`#org_name`), orgName),
		chromedp.SendKeys(chromedp.CSS(`#org_slug`), slug),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Avery Owner"),
		chromedp.SendKeys(chromedp.CSS(`#email`), slug+"@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
		chromedp.Click(chromedp.CSS(`#register-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=role]`)),
	)
}

// signInTo signs in through the login form and waits on path for css.
func signInTo(t *testing.T, ctx context.Context, a *app, email, path, css string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(a.URL+"/login?redirect_to="+path),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(css)),
	)
}

// createAgentWithForm opens the form from the agents page, first sends it
// with the name left empty (htmx shows the message in place), then
// creates the agent and returns its id from the agent's page.
func createAgentWithForm(t *testing.T, ctx context.Context, a *app, name string) string {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(a.URL+"/agents"),
		chromedp.Click(chromedp.CSS(`[data-testid=new-agent]`)),
		chromedp.WaitVisible(chromedp.CSS(`#agent-form #name`)),
	)
	markDocument(t, ctx)
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#agent-form #system_prompt`), "You answer questions about our policies, briefly."),
		chromedp.Click(chromedp.CSS(`#agent-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#field-name .error`)),
	)
	if !sameDocument(t, ctx) {
		t.Error("the invalid agent form reloaded the page instead of showing the message in place")
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#agent-form #name`), name),
		chromedp.Click(chromedp.CSS(`#agent-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=agent-state]`)),
	)
	if got := textOf(t, ctx, `[data-testid=agent-name]`); !strings.HasPrefix(got, name) {
		t.Fatalf("agent page for %q", got)
	}
	if st := textOf(t, ctx, `[data-testid=agent-state]`); st != "draft" {
		t.Fatalf("a new agent is %q, want draft", st)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc[strings.LastIndex(loc, "/")+1:]
}

// deployAgent deploys the agent whose page is open: the page says it is
// deploying while the provider holds its check (gate), and shows it
// active on a reload once the check answered.
func deployAgent(t *testing.T, ctx context.Context, gate chan struct{}) {
	t.Helper()
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=transition-deploy]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=agent-deploying]`)),
	)
	if st := textOf(t, ctx, `[data-testid=agent-state]`); st != "deploying" {
		t.Errorf("after deploy the agent is %q, want deploying", st)
	}
	close(gate)
	deadline := time.Now().Add(15 * time.Second)
	for {
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=agent-state]`)))
		st := textOf(t, ctx, `[data-testid=agent-state]`)
		if st == "active" {
			break
		}
		if st != "deploying" || time.Now().After(deadline) {
			t.Fatalf("the deployed agent is %q (%s)", st, textOf(t, ctx, `main`))
		}
		time.Sleep(200 * time.Millisecond)
	}
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid=run-form]`)))
}

// watchOutput reads the streamed answer of execution id on the open page
// until the run is no longer running, and returns each different text
// seen while it was (so the caller can tell it grew in place).
func watchOutput(t *testing.T, ctx context.Context, id string, within time.Duration) []string {
	t.Helper()
	js := `(() => { const o = document.getElementById("exec-` + id + `-output");
		const s = document.querySelector("[data-testid=execution-status]");
		return [s ? s.textContent.trim() : "", o ? o.textContent : ""]; })()`
	var seen []string
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			t.Fatal(err)
		}
		status, text := v[0], v[1]
		if status != "queued" && status != "running" {
			return seen
		}
		if text != "" && (len(seen) == 0 || seen[len(seen)-1] != text) {
			if len(seen) > 0 && !strings.HasPrefix(text, seen[len(seen)-1]) {
				t.Errorf("the streamed answer changed from %q to %q instead of growing", seen[len(seen)-1], text)
			}
			seen = append(seen, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the run did not finish within %v (saw %q)", within, seen)
	return nil
}

// waitStatus waits, without touching the page, until the run's status
// is final, and returns it. The page may be reloading itself meanwhile:
// a read that meets a page between documents is tried again.
func waitStatus(t *testing.T, ctx context.Context, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := chromedp.Run(sctx, chromedp.Evaluate[string](
			`(document.querySelector("[data-testid=execution-status]") || {textContent: ""}).textContent.trim()`))
		cancel()
		if err == nil {
			last = st
			if st != "" && st != "queued" && st != "running" {
				return st
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the run was still %q after %v", last, within)
	return ""
}

// attr returns attribute name of the first element matching css.
func attr(t *testing.T, ctx context.Context, css, name string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := chromedp.Run(sctx, chromedp.AttributeValue(chromedp.CSS(css), name))
	if err != nil || !r.Exists {
		t.Fatalf("%s[%s]: %v", css, name, err)
	}
	return r.Value
}
