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

// searchFixture is the forum fixture with two replies to find and one
// the moderators hid.
func searchFixture(t *testing.T) forumFixture {
	t.Helper()
	f := newForumFixture(t)
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := store.New(db, 2)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByEmail(ctx, f.ownerEmail)
	if err != nil {
		t.Fatal(err)
	}
	org, err := st.OrganizationBySlug(ctx, strings.TrimSuffix(f.ownerEmail, "@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	tn := org.Tenant()
	for _, body := range []string{"A gazelle crossed the road.", "Zebras graze at dawn.", "The secret gazelle plan, hidden."} {
		_, p, err := st.CreateForumReply(ctx, tn, u.ID, f.threadID, body)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(body, "hidden") {
			if _, err := db.ExecContext(ctx, tn.SQL(`UPDATE {tenant}.forum_posts SET status = 'hidden' WHERE id = $1`), p.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// hitCount is how many results the page shows.
func hitCount(t *testing.T, ctx context.Context) int {
	return elementCount(t, ctx, `[data-testid=search-hit]`)
}

// TestSearchJourney: a member searches from the header, finds a reply
// and not the hidden post; typing a new word updates the results in
// place, the address following. Without JavaScript the same forms work
// by plain GETs.
func TestSearchJourney(t *testing.T) {
	a := startApp(t)
	f := searchFixture(t)
	member := browser(t)
	signIn(t, member, a, f.memberEmail, "/forums/t/"+f.threadID)
	do(t, member,
		chromedp.SendKeys(chromedp.CSS(`#header-q`), "gazelle\n"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=search-hit]`)),
	)
	if n := hitCount(t, member); n != 1 {
		t.Fatalf("%d hits for gazelle, want the one visible reply", n)
	}
	if got := textOf(t, member, `[data-testid=search-hit] .search-snippet mark`); !strings.EqualFold(got, "gazelle") {
		t.Errorf("marked %q", got)
	}
	body := textOf(t, member, `main`)
	if strings.Contains(body, "secret") {
		t.Error("the member finds the hidden post")
	}

	markDocument(t, member)
	do(t, member,
		chromedp.Clear(chromedp.CSS(`#search-q`)),
		chromedp.SendKeys(chromedp.CSS(`#search-q`), "zebra"),
	)
	wctx, cancel := context.WithTimeout(member, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Poll[bool](`[...document.querySelectorAll('[data-testid=search-hit]')].some(h => h.textContent.includes('Zebras'))`,
		chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("the results did not follow the typing: %v", err)
	}
	if !sameDocument(t, member) {
		t.Error("the page reloaded: results should update in place")
	}
	if loc, _ := chromedp.Run(member, chromedp.Location()); !strings.Contains(loc, "q=zebra") {
		t.Errorf("the address %s does not follow the search", loc)
	}
	// The hit leads to the reply on its thread page.
	do(t, member, chromedp.Click(chromedp.CSS(`[data-testid=search-hit] a.thread-title`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=thread-title]`)))
	if loc, _ := chromedp.Run(member, chromedp.Location()); !strings.Contains(loc, "/forums/t/"+f.threadID) || !strings.Contains(loc, "#post-") {
		t.Errorf("the hit led to %s", loc)
	}

	plain := browser(t)
	disableJS(t, plain)
	signIn(t, plain, a, f.memberEmail, "/forums/t/"+f.threadID)
	sctx, cancel2 := context.WithTimeout(plain, 20*time.Second)
	defer cancel2()
	resp, err := chromedp.RunResponse(sctx, chromedp.SendKeys(chromedp.CSS(`#header-q`), "gazelle\n"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("search without JavaScript: %v %v", err, resp)
	}
	do(t, plain, chromedp.WaitVisible(chromedp.CSS(`[data-testid=search-hit]`)))
	do(t, plain, chromedp.SetValue(chromedp.CSS(`#search-q`), "zebra"))
	submit(t, plain, `form[data-testid=search-form] button[type=submit]`)
	if got := textOf(t, plain, `[data-testid=search-hit] .search-snippet`); !strings.Contains(got, "Zebras") {
		t.Errorf("the plain form's search shows %q", got)
	}
}
