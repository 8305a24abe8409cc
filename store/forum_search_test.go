package store_test

import (
	"context"
	"strings"
	"testing"

	"fleetprompt/store"
)

// searchTitles returns the thread titles of the hits, best first.
func searchTitles(t *testing.T, f *forumFixture, q store.ForumQuery) []string {
	t.Helper()
	hits, err := f.s.SearchForum(context.Background(), f.t, q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range hits {
		out = append(out, h.ThreadTitle)
	}
	return out
}

// say posts body in the thread as the fixture's own user.
func (f *forumFixture) say(t *testing.T, threadID, body string) store.ForumPost {
	t.Helper()
	_, p, err := f.s.CreateForumReply(context.Background(), f.t, f.user, threadID, body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The search the built-in responder answers from: the posts that say
// most about the question come first, posts that share only a common
// word come after them, and only published posts of the organization
// (outside an excluded thread) are ever found. The ranking function is
// an optimisation target (bench/agents), so this pins what it must keep.
func TestSearchForumRanksTheAnsweringPostsFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newForum(t)
	refunds, _ := f.thread(t, "Refunds")
	f.say(t, refunds.ID, "Refunds for annual plans are prorated: you get back the unused months of the annual plan, minus any discount.")
	f.say(t, refunds.ID, "An annual refund reaches your card within five days.")
	vat, _ := f.thread(t, "VAT")
	f.say(t, vat.ID, "The invoice takes the VAT number from the billing profile.")
	noise, _ := f.thread(t, "Plans")
	for range 30 {
		f.say(t, noise.ID, "Our team is happy with the pro plan.")
	}
	hidden := f.say(t, vat.ID, "Hidden: refunds for annual plans work differently.")
	if _, err := f.s.DB.ExecContext(ctx, f.t.SQL(`UPDATE {tenant}.forum_posts SET status = 'hidden' WHERE id = $1`), hidden.ID); err != nil {
		t.Fatal(err)
	}
	other := newForum(t)
	th, _ := other.thread(t, "Elsewhere")
	other.say(t, th.ID, "Refunds for annual plans, in another organization entirely.")

	got := searchTitles(t, f, store.ForumQuery{Text: "How do refunds work for annual plans?", Any: true, Limit: 5})
	if len(got) != 5 || got[0] != "Refunds" || got[1] != "Refunds" {
		t.Fatalf("refund question found %q, want the two refund posts first", got)
	}
	for _, title := range got[2:] {
		if title != "Plans" && title != "Refunds" {
			t.Errorf("after the refund posts come %q, want only posts sharing one word", got)
		}
	}
	// Every word must match unless Any: the one post about both.
	if got := searchTitles(t, f, store.ForumQuery{Text: "annual discount", Limit: 5}); len(got) != 1 || got[0] != "Refunds" {
		t.Errorf("all words found %q", got)
	}
	if got := searchTitles(t, f, store.ForumQuery{Text: "refunds annual", Any: true, ExcludeThread: refunds.ID, Limit: 5}); len(got) != 0 {
		t.Errorf("with the refunds thread excluded found %q (hidden posts and other organizations must not show)", got)
	}
	// Text with nothing to search for is no query at all, never an error.
	for _, text := range []string{"", "& | ! ' \" :* ()", "a"} {
		if got := searchTitles(t, f, store.ForumQuery{Text: text, Any: true}); len(got) != 0 {
			t.Errorf("%q found %q", text, got)
		}
	}
	hits, err := f.s.SearchForum(ctx, f.t, store.ForumQuery{Text: "VAT invoice", Any: true, Limit: 1})
	if err != nil || len(hits) != 1 || !strings.Contains(hits[0].Excerpt, "VAT") || hits[0].AuthorName != "Owner" {
		t.Errorf("VAT search: %+v, %v", hits, err)
	}
}
