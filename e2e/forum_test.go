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

// forumFixture is an organization with an owner (a moderator) and a plain
// member, and one open thread, made through the store as the app would.
type forumFixture struct {
	ownerEmail, memberEmail string
	threadID                string
}

func newForumFixture(t *testing.T) forumFixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := store.New(db, 4)
	if err != nil {
		t.Fatal(err)
	}
	slug := storetest.Name("e2efor")
	f := forumFixture{ownerEmail: slug + "@example.com", memberEmail: "m-" + slug + "@example.com"}
	owner, org, err := st.Register(ctx, store.Registration{OrgName: "Forum Journey", OrgSlug: slug, Name: "Olive Owner", Email: f.ownerEmail, Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	createBareUser(t, f.memberEmail, "Mia Member")
	if _, err := st.AddMember(ctx, org.Tenant(), owner.ID, f.memberEmail, store.RoleMember); err != nil {
		t.Fatal(err)
	}
	cat, err := st.CreateForumCategory(ctx, org.Tenant(), owner.ID, store.NewForumCategory{Name: "General"})
	if err != nil {
		t.Fatal(err)
	}
	th, _, err := st.CreateForumThread(ctx, org.Tenant(), owner.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Live thread", Body: "First post."})
	if err != nil {
		t.Fatal(err)
	}
	f.threadID = th.ID
	return f
}

// signIn logs a browser in through the sign-in form and opens path.
func signIn(t *testing.T, ctx context.Context, a *app, email, path string) {
	t.Helper()
	signInTo(t, ctx, a, email, path, `[data-testid=thread-title]`)
}

// markDocument sets a marker on window: it survives htmx swaps and SSE
// updates, and disappears with a reload.
func markDocument(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.fpSameDocument = true`)); err != nil {
		t.Fatal(err)
	}
}

func sameDocument(t *testing.T, ctx context.Context) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.fpSameDocument === true`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitPostWithin waits until a post containing text is on the page.
func waitPostWithin(t *testing.T, ctx context.Context, text string, d time.Duration) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := chromedp.Run(wctx, chromedp.Poll[bool](`[...document.querySelectorAll('[data-testid=post]')].some(p => p.textContent.includes(`+"`"+text+"`"+`))`, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("post %q did not appear within %v: %v", text, d, err)
	}
}

// TestForumLiveJourney: two people read one thread; one replies and the
// other sees the reply without reloading, within 2 s. Then the moderator
// locks the thread and the member's open page shows it locked.
func TestForumLiveJourney(t *testing.T) {
	a := startApp(t)
	f := newForumFixture(t)
	path := "/forums/t/" + f.threadID

	owner, member := browser(t), browser(t)
	signIn(t, owner, a, f.ownerEmail, path)
	signIn(t, member, a, f.memberEmail, path)
	// Let the member's event stream connect before the reply is made.
	do(t, member, chromedp.Sleep(500*time.Millisecond))
	markDocument(t, member)
	markDocument(t, owner)

	reply := "Reply seen live " + storetest.Name("r")
	start := time.Now()
	do(t, owner,
		chromedp.SendKeys(chromedp.CSS(`#reply-form #body`), reply),
		chromedp.Click(chromedp.CSS(`#reply-form button[type=submit]`)),
	)
	waitPostWithin(t, member, reply, 2*time.Second)
	t.Logf("reply reached the other reader in %v", time.Since(start).Round(time.Millisecond))
	if !sameDocument(t, member) {
		t.Error("the member's page reloaded: the reply should arrive live")
	}
	// The author's own reply is appended once (htmx response and the live
	// event for it are the same element).
	waitPostWithin(t, owner, reply, 2*time.Second)
	if n := elementCount(t, owner, `[data-testid=post]`); n != 2 {
		t.Errorf("the author's page shows %d posts, want 2 (no duplicate)", n)
	}
	if v, _ := chromedp.Run(owner, chromedp.Value(chromedp.CSS(`#reply-form #body`))); v != "" {
		t.Errorf("reply form not cleared: %q", v)
	}
	if !sameDocument(t, owner) {
		t.Error("the author's page reloaded: htmx should append the reply in place")
	}

	// The moderator locks the thread; the member's open page follows.
	do(t, owner, chromedp.Click(chromedp.CSS(`#thread-status form[action$="/lock"] button`)))
	wctx, cancel := context.WithTimeout(member, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid=thread-status][data-status=locked]`))); err != nil {
		t.Fatalf("the member's page did not show the thread locked: %v", err)
	}
	if !sameDocument(t, member) {
		t.Error("the member's page reloaded to show the lock")
	}
}

// TestForumJourneyWithoutJavaScript: the same conversation by plain form
// posts and reloads.
func TestForumJourneyWithoutJavaScript(t *testing.T) {
	a := startApp(t)
	f := newForumFixture(t)
	path := "/forums/t/" + f.threadID

	owner, member := browser(t), browser(t)
	disableJS(t, owner)
	disableJS(t, member)
	signIn(t, owner, a, f.ownerEmail, path)
	signIn(t, member, a, f.memberEmail, path)

	reply := "Plain reply " + storetest.Name("p")
	do(t, owner, chromedp.SendKeys(chromedp.CSS(`#reply-form #body`), reply))
	submit(t, owner, `#reply-form button[type=submit]`)
	waitPostWithin(t, owner, reply, 5*time.Second) // the 303 led back to the thread
	loc, _ := chromedp.Run(owner, chromedp.Location())
	if !strings.Contains(loc, path) || !strings.Contains(loc, "#post-") {
		t.Errorf("after a plain reply the browser is at %s, want the thread anchored at the post", loc)
	}
	do(t, member, chromedp.Reload())
	waitPostWithin(t, member, reply, 5*time.Second)

	// An empty reply is refused by the server with a message (the form is
	// novalidate, so the browser sends it).
	if status := submit(t, member, `#reply-form button[type=submit]`); status != 422 {
		t.Errorf("empty reply answered %d, want 422", status)
	}
	if msg := textOf(t, member, `#field-body .error`); msg == "" {
		t.Error("no message for the empty reply")
	}
}

// submit clicks a submit button and waits for the page it leads to,
// returning that page's HTTP status (after redirects).
func submit(t *testing.T, ctx context.Context, css string) int64 {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("submit %s: %v", css, err)
	}
	return resp.Status
}
