package e2e

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store/storetest"
)

// supportAnswer is what the fake provider answers, a word at a time.
const supportAnswer = "Open the back tray, pull the paper out slowly, then switch the printer off and on again."

// TestSupportAutoReplyJourney: the demo admin installs Customer Support
// Hub from the marketplace, opens a thread in Support and watches the
// Ticket Manager's answer stream into the open page, then become its post
// (agent badge, "how it answered"), all without a reload. With JavaScript
// off, the next thread's answer is there on reload.
func TestSupportAutoReplyJourney(t *testing.T) {
	seed := exec.Command(binary, "seed") // the demo organization and the marketplace
	seed.Env = append(os.Environ(), "DATABASE_URL="+storetest.DSN(), "DATA_DIR="+t.TempDir(), "BCRYPT_COST=4", "LOG_LEVEL=warn")
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	// The first answer stops after a few words until the test has seen
	// them on the page; later ones stream at a reader's pace.
	gate := make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	defer release() // a failure must not leave the fake's answer hanging
	var asked atomic.Int32
	words := strings.SplitAfter(supportAnswer, " ")
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply {
		r := llmtest.Text(words...)
		r.Delay = 30 * time.Millisecond
		if asked.Add(1) == 1 {
			r.Gate, r.GateAt = gate, 4
		}
		return r
	})
	defer fake.Close()
	a := startApp(t, "LLM_BASE_URL="+fake.BaseURL(), "LLM_MODEL=fake-model")

	ctx := browser(t)
	signInTo(t, ctx, a, "admin@demo.com", "/marketplace/customer-support", `[data-testid=package-name]`)
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#install-customer-support [data-testid=install-form] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#install-customer-support[data-state=installed]`)),
	)
	do(t, ctx,
		chromedp.Navigate(a.URL+"/forums/c/support"),
		chromedp.Click(chromedp.CSS(`a[href^="/forums/new?category_id="]`)),
		chromedp.WaitVisible(chromedp.CSS(`#thread-form #title`)),
		chromedp.SendKeys(chromedp.CSS(`#thread-form #title`), "The printer jams again"),
		chromedp.SendKeys(chromedp.CSS(`#thread-form #body`), "How do I clear a paper jam?"),
		chromedp.Click(chromedp.CSS(`#thread-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=thread-title]`)),
	)
	markDocument(t, ctx)

	// The first words, in the agent's placeholder, before any post.
	waitJS(t, ctx, `(document.querySelector('[data-testid=agent-answering] .streamed') || {}).textContent === `+"`"+strings.Join(words[:4], "")+"`", "the answer")
	if n := elementCount(t, ctx, `[data-testid=post] [data-testid=agent-badge]`); n != 0 {
		t.Fatalf("%d agent posts while the answer is still being written", n)
	}
	if got := textOf(t, ctx, `[data-testid=agent-answering] header`); !strings.Contains(got, "Ticket Manager") || !strings.Contains(got, "is answering") {
		t.Errorf("the answer in progress says %q", got)
	}
	release()
	// Then the post replaces it: the agent's name, badge, run link.
	waitJS(t, ctx, `[...document.querySelectorAll('[data-testid=post]')].some(p => p.querySelector('[data-testid=agent-badge]') && p.textContent.includes(`+"`"+supportAnswer+"`"+`))`, "the agent's post")
	agentPost := `[data-testid=post]:has([data-testid=agent-badge])`
	if got := textOf(t, ctx, agentPost+` .post-meta strong`); got != "Ticket Manager" {
		t.Errorf("the answer is by %q", got)
	}
	if n := elementCount(t, ctx, agentPost+` a[data-testid=post-execution][href^="/executions/"]`); n != 1 {
		t.Error(`the agent's post has no "how it answered" link`)
	}
	if n := elementCount(t, ctx, `[data-testid=agent-answering]`); n != 0 {
		t.Error("the streamed placeholder is still there beside the post")
	}
	if n := elementCount(t, ctx, `[data-testid=post]`); n != 2 {
		t.Errorf("%d posts on the page, want the question and one answer", n)
	}
	if !sameDocument(t, ctx) {
		t.Error("the page reloaded: the answer should arrive live")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(agentPost+` a[data-testid=post-execution]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/workflows/runs/"]`)))

	t.Run("without JavaScript", func(t *testing.T) { supportReplyWithoutJS(t, a) })
}

// supportReplyWithoutJS opens a thread in Support by plain form posts and
// finds the agent's answer by reloading.
func supportReplyWithoutJS(t *testing.T, a *app) {
	ctx := browser(t)
	disableJS(t, ctx)
	signInTo(t, ctx, a, "admin@demo.com", "/forums/c/support", `a[href^="/forums/new?category_id="]`)
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`a[href^="/forums/new?category_id="]`)),
		chromedp.WaitVisible(chromedp.CSS(`#thread-form #title`)),
		chromedp.SendKeys(chromedp.CSS(`#thread-form #title`), "Paper jam on the second floor"),
		chromedp.SendKeys(chromedp.CSS(`#thread-form #body`), "Same printer, same jam."),
	)
	if status := submit(t, ctx, `#thread-form button[type=submit]`); status != 200 {
		t.Fatalf("the new thread answered %d", status)
	}
	deadline := time.Now().Add(20 * time.Second)
	for elementCount(t, ctx, `[data-testid=post] [data-testid=agent-badge]`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no agent answer after reloading for 20 s")
		}
		time.Sleep(300 * time.Millisecond)
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid=thread-title]`)))
	}
	if got := textOf(t, ctx, `[data-testid=post]:has([data-testid=agent-badge]) .post-body`); got != supportAnswer {
		t.Errorf("the answer reads %q", got)
	}
	if n := elementCount(t, ctx, `[data-testid=post]:has([data-testid=agent-badge]) a[data-testid=post-execution]`); n != 1 {
		t.Error(`no "how it answered" link without JavaScript`)
	}
}
