package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestForumCommunityJourney (SPEC §16), in two browsers with JavaScript:
// a member likes the moderator's reply in place and the moderator's page
// counts it live; the moderator edits the reply in place and the
// member's page shows the new text live; the member starts typing a
// reply, the moderator locks the thread, and the member's reply button
// turns off while the text stays. No page reloads.
func TestForumCommunityJourney(t *testing.T) {
	a := startApp(t)
	f := newForumFixture(t)
	path := "/forums/t/" + f.threadID

	owner, member := browser(t), browser(t)
	signIn(t, owner, a, f.ownerEmail, path)
	do(t, owner,
		chromedp.SendKeys(chromedp.CSS(`#reply-form #body`), "Try turning it off and on."),
		chromedp.Click(chromedp.CSS(`#reply-form button[type=submit]`)),
	)
	waitPostWithin(t, owner, "Try turning it off and on.", 5*time.Second)
	reply := attrOf(t, owner, `[data-testid=post]:last-of-type`, "id")
	signIn(t, member, a, f.memberEmail, path)
	do(t, member, chromedp.Sleep(500*time.Millisecond)) // the streams connect
	markDocument(t, member)
	markDocument(t, owner)

	like := "#" + reply + " button.reaction[value=like]"
	do(t, member, chromedp.Click(chromedp.CSS(like)))
	waitJS(t, member, `document.querySelector("`+like+`").getAttribute("aria-pressed") === "true"`, "the like to be pressed")
	countID := "rc-" + strings.TrimPrefix(reply, "post-") + "-like"
	waitJS(t, owner, `document.getElementById("`+countID+`").textContent.trim() === "1"`, "the moderator's page to count the like")

	do(t, owner, chromedp.Click(chromedp.CSS("#"+reply+" [data-testid=edit-post]")))
	editID := "#edit-body-" + strings.TrimPrefix(reply, "post-")
	// htmx takes over the swapped-in form as it settles: a click before
	// that would post it the plain way (a full page).
	waitJS(t, owner, `!!document.querySelector("`+editID+`") && !document.querySelector(".htmx-settling, .htmx-swapping")`, "the edit form in place")
	do(t, owner, chromedp.Sleep(200*time.Millisecond),
		chromedp.SetValue(chromedp.CSS(editID), "Try turning it off, then on again."),
		chromedp.Click(chromedp.CSS("#"+reply+" [data-testid=edit-form] button[type=submit]")),
	)
	waitJS(t, member, `document.querySelector("#`+reply+` .post-body").textContent.includes("then on again")`, "the edit to reach the member")
	waitJS(t, owner, `!!document.querySelector("#`+reply+` [data-testid=post-edited]")`, "the edited note on the moderator's page")

	typed := "I was about to say something"
	do(t, member, chromedp.SendKeys(chromedp.CSS(`#reply-form #body`), typed))
	do(t, owner, chromedp.Click(chromedp.CSS(`#thread-status form[action$="/lock"] button`)))
	waitJS(t, member, `document.querySelector("#reply-actions button").disabled`, "the member's reply button to turn off")
	if v, _ := chromedp.Run(member, chromedp.Value(chromedp.CSS(`#reply-form #body`))); v != typed {
		t.Errorf("the typed reply was lost: %q", v)
	}
	if msg := textOf(t, member, `[data-testid=reply-locked-live]`); !strings.Contains(msg, "locked") {
		t.Errorf("no word on why the button is off: %q", msg)
	}
	if !sameDocument(t, member) || !sameDocument(t, owner) {
		t.Error("a page reloaded: likes, edits and the lock should all arrive in place")
	}
}

// waitJS waits until expr is true in the tab (10 s).
func waitJS(t *testing.T, ctx context.Context, expr, what string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// attrOf is an attribute of the first element matching css.
func attrOf(t *testing.T, ctx context.Context, css, attr string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("`+css+`").getAttribute("`+attr+`")`))
	if err != nil || v == "" {
		t.Fatalf("%s of %s: %q %v", attr, css, v, err)
	}
	return v
}
