package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fleetprompt/store/storetest"
)

// The reply form's idempotency key makes a resent form one post; with
// JavaScript the page replies again and again without a reload, so each
// htmx answer must hand the form its next key: two replies in a row from
// one page are two posts, and the form ends with a key not yet used.
func TestRepliesInARowWithJavaScriptAreEachPosted(t *testing.T) {
	a := startApp(t)
	f := newForumFixture(t)
	owner := browser(t)
	signIn(t, owner, a, f.ownerEmail, "/forums/t/"+f.threadID)
	markDocument(t, owner)

	keyNow := func() string {
		t.Helper()
		k, err := chromedp.Run(owner, chromedp.Evaluate[string](`document.querySelector('#reply-form input[name=idempotency_key]').value`))
		if err != nil || len(k) < 32 {
			t.Fatalf("reply form key %q: %v", k, err)
		}
		return k
	}
	used := map[string]bool{}
	for i, text := range []string{"First in a row " + storetest.Name("a"), "Second in a row " + storetest.Name("b")} {
		used[keyNow()] = true
		do(t, owner,
			chromedp.SendKeys(chromedp.CSS(`#reply-form #body`), text),
			chromedp.Click(chromedp.CSS(`#reply-form button[type=submit]`)),
		)
		waitPostWithin(t, owner, text, 5*time.Second)
		if n := elementCount(t, owner, `[data-testid=post]`); n != i+2 {
			t.Fatalf("after reply %d the page shows %d posts, want %d", i+1, n, i+2)
		}
	}
	if used[keyNow()] {
		t.Error("the reply form still holds a key it has already sent")
	}
	if !sameDocument(t, owner) {
		t.Error("the page reloaded: htmx should append each reply in place")
	}
}
