package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fleetprompt/store/storetest"
)

// TestChatInstallJourney: a new organization (no agents yet, no model
// provider configured) chats with the built-in assistant, types
// `/install starter-agents`, confirms the proposed action, and watches
// the install (a directive run by the app's job runner) finish on the
// card, live.
func TestChatInstallJourney(t *testing.T) {
	// The catalogue: `seed` is idempotent, and the app only seeds its
	// own embedded database by itself.
	seed := exec.Command(binary, "seed")
	seed.Env = append(os.Environ(), "DATABASE_URL="+storetest.DSN(), "DATA_DIR="+t.TempDir(), "BCRYPT_COST=4", "LOG_LEVEL=warn")
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	a := startApp(t)
	ctx := browser(t)
	slug := storetest.Name("e2echat")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/register"),
		chromedp.WaitVisible(chromedp.CSS(`#register-form`)),
		chromedp.SendKeys(chromedp.CSS(`#org_name`), "Chat Org"),
		chromedp.SendKeys(chromedp.CSS(`#org_slug`), slug),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Casey Chat"),
		chromedp.SendKeys(chromedp.CSS(`#email`), slug+"@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
		chromedp.Click(chromedp.CSS(`#register-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=role]`)),
	)
	do(t, ctx,
		chromedp.Navigate(a.URL+"/chat"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=chat-no-provider]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=chat-start]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chat-form textarea#body`)),
		chromedp.SendKeys(chromedp.CSS(`#chat-form textarea#body`), "/install starter-agents"),
		chromedp.Click(chromedp.CSS(`[data-testid=chat-send]`)),
	)
	do(t, ctx,
		// The answer streams in and its card appears, with nothing done yet.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=chat-action] [data-testid=chat-action-confirm]`)),
	)
	if got := textOf(t, ctx, `[data-testid=chat-action-summary]`); !strings.Contains(got, "Install Starter Agents") {
		t.Fatalf("card says %q", got)
	}
	if got := textOf(t, ctx, `[data-testid=chat-message][data-role=assistant] [data-testid=chat-text]`); !strings.Contains(got, "Nothing happens until you confirm") {
		t.Errorf("answer %q", got)
	}
	clickLive(t, ctx, `[data-testid=chat-action-confirm]`)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid=chat-action][data-directive-status=succeeded] [data-testid=chat-action-outcome]`)))
	if got := textOf(t, ctx, `[data-testid=chat-action-outcome]`); !strings.Contains(got, "Installed: 3 agents created") {
		t.Fatalf("outcome %q", got)
	}
	// The agents are there.
	do(t, ctx,
		chromedp.Navigate(a.URL+"/agents"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=agent-total]`)),
	)
	if got := textOf(t, ctx, `[data-testid=agent-total]`); got != "3" {
		t.Errorf("%s agents after the install", got)
	}
}
