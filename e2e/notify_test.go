package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// TestMentionNotifiesLive (SPEC §16), in two browsers with JavaScript:
// the member has the dashboard open; the owner mentions them by handle
// in a reply; the member's header badge turns to 1 without a reload, and
// their inbox says who mentioned them where. Marking it read in place
// takes the badge away.
func TestMentionNotifiesLive(t *testing.T) {
	a := startApp(t)
	f := newForumFixture(t)
	handle := setHandle(t, f.memberEmail)

	owner, member := browser(t), browser(t)
	signInTo(t, member, a, f.memberEmail, "/dashboard", `[data-testid=inbox-link]`)
	if n := elementCount(t, member, `[data-testid=inbox-count]`); n != 0 {
		t.Fatalf("the member starts with a badge")
	}
	do(t, member, chromedp.Sleep(500*time.Millisecond)) // the "me" stream connects
	markDocument(t, member)

	signIn(t, owner, a, f.ownerEmail, "/forums/t/"+f.threadID)
	do(t, owner,
		chromedp.SendKeys(chromedp.CSS(`#reply-form #body`), "Over to you, @"+handle+"."),
		chromedp.Click(chromedp.CSS(`#reply-form button[type=submit]`)),
	)
	waitJS(t, member, `(document.querySelector("[data-testid=inbox-count]")||{}).textContent === "1"`, "the member's badge to show 1")
	if !sameDocument(t, member) {
		t.Fatal("the member's page reloaded: the badge should change in place")
	}
	// One stream for the page: the badge came on the dashboard's own.
	if n := elementCount(t, member, `[sse-connect]`); n != 1 || elementCount(t, member, `[data-testid=inbox-live][sse-connect]`) != 0 {
		t.Errorf("the dashboard opened %d streams (want its own only, the badge riding on it)", n)
	}

	do(t, member, chromedp.Click(chromedp.CSS(`[data-testid=inbox-link]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=notification]`)))
	if got := textOf(t, member, `[data-testid=notification-text]`); !strings.Contains(got, "Olive Owner mentioned you in “Live thread”") {
		t.Errorf("inbox says %q", got)
	}
	// The inbox has no stream of its own: the "me" stream opens alone.
	if elementCount(t, member, `[data-testid=inbox-live][sse-connect]`) != 1 || elementCount(t, member, `[sse-connect]`) != 1 {
		t.Error("the inbox page should open the person's own stream, and only it")
	}
	markDocument(t, member)
	do(t, member, chromedp.Click(chromedp.CSS(`[data-testid=mark-read]`)))
	waitJS(t, member, `!document.querySelector("[data-testid=inbox-count]") && !document.querySelector("[data-unread=true]")`, "the badge and the unread mark to go")
	if !sameDocument(t, member) {
		t.Error("marking read reloaded the page: htmx should swap the row and the badge")
	}
}

// setHandle gives the user of email a handle and returns it.
func setHandle(t *testing.T, email string) string {
	t.Helper()
	db, err := store.Open(context.Background(), storetest.DSN(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	handle := strings.ReplaceAll(storetest.Name("mia"), "-", "_")
	if _, err := db.ExecContext(context.Background(), `UPDATE users SET handle = $2 WHERE lower(email) = lower($1)`, email, handle); err != nil {
		t.Fatal(err)
	}
	return handle
}
