package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"fleetprompt/store"
)

var bg = context.Background()

// search runs q (page 1 unless set) in f's organization.
func (f *forumFixture) search(t *testing.T, q store.SearchQuery) store.SearchResults {
	t.Helper()
	if q.Page == 0 {
		q.Page = 1
	}
	res, err := f.s.Search(bg, f.t, q)
	if err != nil {
		t.Fatalf("search %q: %v", q.Text, err)
	}
	return res
}

func (f *forumFixture) setStatus(t *testing.T, postID, status string) {
	t.Helper()
	if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`UPDATE {tenant}.forum_posts SET status = $2 WHERE id = $1`), postID, status); err != nil {
		t.Fatal(err)
	}
}

func hitTitles(res store.SearchResults) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, unmark(h.Title))
	}
	return out
}

func unmark(s string) string {
	return strings.NewReplacer(store.SearchMarkStart, "", store.SearchMarkStop, "").Replace(s)
}

// A title match ranks above any body match, however often the body says
// the word; a reply is found and linked as a reply; a thread is found
// once, by its best post.
func TestSearchRanksTitleMatchesFirst(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	titled, _ := f.thread(t, "Kubernetes deployment guide")
	other, _ := f.thread(t, "Miscellaneous questions")
	reply := f.reply(t, f.user, other.ID, "Kubernetes, kubernetes and more kubernetes: we run everything on Kubernetes.")
	f.reply(t, f.user, other.ID, "Also kubernetes here.")
	f.thread(t, "Nothing to see")

	res := f.search(t, store.SearchQuery{Text: "kubernetes"})
	if got := hitTitles(res); len(got) != 2 || got[0] != titled.Title || got[1] != other.Title {
		t.Fatalf("titles %q, want the titled thread first, then the one whose replies say it", got)
	}
	if res.Threads != 2 || res.Capped || res.Pager.HasNext {
		t.Errorf("threads %d capped %v next %v", res.Threads, res.Capped, res.Pager.HasNext)
	}
	first, second := res.Hits[0], res.Hits[1]
	if !first.Opening || !strings.Contains(first.Title, store.SearchMarkStart+"Kubernetes"+store.SearchMarkStop) {
		t.Errorf("title hit: opening %v title %q", first.Opening, first.Title)
	}
	if second.Opening || second.PostID != reply.ID || second.PostPage != 1 || second.AuthorName != "Owner" {
		t.Errorf("reply hit %+v, want the reply that says it most (%s), page 1", second, reply.ID)
	}
	if !strings.Contains(second.Snippet, store.SearchMarkStart+"kubernetes"+store.SearchMarkStop) {
		t.Errorf("snippet %q does not mark the word", second.Snippet)
	}

	// The title and the opening post are one document: words split
	// between them find the thread.
	how, _ := f.thread(t, "How do I deploy?")
	if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`UPDATE {tenant}.forum_posts SET content = 'My agent will not start.' WHERE thread_id = $1`), how.ID); err != nil {
		t.Fatal(err)
	}
	if got := hitTitles(f.search(t, store.SearchQuery{Text: "deploy agent"})); len(got) != 1 || got[0] != how.Title {
		t.Errorf("deploy agent: %q", got)
	}
	// A retitled thread is found by its new title only.
	if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`UPDATE {tenant}.forum_threads SET title = 'Rollout checklist' WHERE id = $1`), how.ID); err != nil {
		t.Fatal(err)
	}
	if got := hitTitles(f.search(t, store.SearchQuery{Text: "rollout"})); len(got) != 1 {
		t.Errorf("rollout after retitling: %q", got)
	}
	for _, h := range f.search(t, store.SearchQuery{Text: "deploy"}).Hits {
		if h.ThreadID == how.ID {
			t.Errorf("found by its old title after retitling: %q", h.Title)
		}
	}
}

// Members never find hidden or deleted posts; moderators find hidden
// ones (the page marks them) and never deleted ones.
func TestSearchLeavesOutHiddenAndDeletedPosts(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, opening := f.thread(t, "Release notes")
	hidden := f.reply(t, f.user, th.ID, "The quokka password is in the vault.")
	deleted := f.reply(t, f.user, th.ID, "Another quokka remark, deleted.")
	f.setStatus(t, hidden.ID, store.PostHidden)
	f.setStatus(t, deleted.ID, store.PostDeleted)
	gone, _ := f.thread(t, "Wombat thread")
	f.setStatus(t, mustOpening(t, f, gone.ID), store.PostHidden)

	if res := f.search(t, store.SearchQuery{Text: "quokka"}); len(res.Hits) != 0 {
		t.Errorf("a member finds %+v", res.Hits)
	}
	if res := f.search(t, store.SearchQuery{Text: "wombat"}); len(res.Hits) != 0 {
		t.Errorf("a member finds a thread by the title of its hidden opening post: %+v", res.Hits)
	}
	res := f.search(t, store.SearchQuery{Text: "quokka", Moderator: true})
	if len(res.Hits) != 1 || res.Hits[0].PostID != hidden.ID || res.Hits[0].PostStatus != store.PostHidden {
		t.Fatalf("moderator: %+v, want the hidden post only", res.Hits)
	}
	if res.Hits[0].PostPage != 1 {
		t.Errorf("page %d", res.Hits[0].PostPage)
	}
	if res := f.search(t, store.SearchQuery{Text: "deleted", Moderator: true}); len(res.Hits) != 0 {
		t.Errorf("a moderator finds a deleted post: %+v", res.Hits)
	}
	if res := f.search(t, store.SearchQuery{Text: "release"}); len(res.Hits) != 1 || res.Hits[0].PostID != opening.ID {
		t.Errorf("the thread itself: %+v", res.Hits)
	}
}

func mustOpening(t *testing.T, f *forumFixture, threadID string) string {
	t.Helper()
	var id string
	if err := f.s.DB.GetContext(bg, &id, f.t.SQL(`SELECT id FROM {tenant}.forum_posts WHERE thread_id = $1 ORDER BY created_at, id LIMIT 1`), threadID); err != nil {
		t.Fatal(err)
	}
	return id
}

// A snippet carries the search's markers only: markers typed into a post
// are dropped. (ts_headline leaves HTML tags out; whatever text remains,
// the page escapes.)
func TestSearchSnippetsCarryOnlyTheSearchsMarkers(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, _ := f.thread(t, "Scripts "+store.SearchMarkStop+"here")
	f.reply(t, f.user, th.ID, `<script>alert("x")</script> the pangolin `+store.SearchMarkStart+`<b>bold</b>`+store.SearchMarkStop+` remark`)
	res := f.search(t, store.SearchQuery{Text: "pangolin"})
	if len(res.Hits) != 1 {
		t.Fatalf("hits %+v", res.Hits)
	}
	h := res.Hits[0]
	if strings.Count(h.Snippet, store.SearchMarkStart) != 1 || strings.Count(h.Snippet, store.SearchMarkStop) != 1 ||
		!strings.Contains(h.Snippet, store.SearchMarkStart+"pangolin"+store.SearchMarkStop) {
		t.Errorf("snippet %q: want exactly the one match marked", h.Snippet)
	}
	if strings.ContainsAny(h.Title, store.SearchMarkStart+store.SearchMarkStop) {
		t.Errorf("title %q carries a marker although it did not match", h.Title)
	}

	// A long post's snippet is around its match, however far in.
	long := f.reply(t, f.user, th.ID, strings.Repeat("filler words here. ", 900)+"The okapi hides at the very end.")
	res = f.search(t, store.SearchQuery{Text: "okapis"})
	if len(res.Hits) != 1 || res.Hits[0].PostID != long.ID || !strings.Contains(res.Hits[0].Snippet, store.SearchMarkStart+"okapi"+store.SearchMarkStop) ||
		len(res.Hits[0].Snippet) > 600 {
		t.Errorf("long post's snippet: %+v", res.Hits)
	}
}

// Another organization's posts are never found, and its category is
// not a filter here.
func TestSearchStaysInItsOrganization(t *testing.T) {
	t.Parallel()
	a, b := newForum(t), newForum(t)
	b.thread(t, "Capybara sightings")
	a.thread(t, "Our own thread")
	if res := a.search(t, store.SearchQuery{Text: "capybara"}); len(res.Hits) != 0 {
		t.Fatalf("A finds B's thread: %+v", res.Hits)
	}
	if res := a.search(t, store.SearchQuery{Text: "capybara", CategoryID: b.cat.ID}); len(res.Hits) != 0 {
		t.Fatalf("A finds B's thread through B's category: %+v", res.Hits)
	}
	if res := b.search(t, store.SearchQuery{Text: "capybara"}); len(res.Hits) != 1 {
		t.Fatalf("B's own search: %+v", res.Hits)
	}
}

func TestSearchFiltersByCategory(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	other, err := f.s.CreateForumCategory(bg, f.t, f.user, store.NewForumCategory{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	f.thread(t, "Heron in general")
	if _, _, err := f.s.CreateForumThread(bg, f.t, f.user, store.NewForumThread{CategoryID: other.ID, Title: "Heron elsewhere", Body: "Body"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.ArchiveForumCategory(bg, f.t, f.user, other.Slug); err != nil {
		t.Fatal(err)
	}
	if got := hitTitles(f.search(t, store.SearchQuery{Text: "heron"})); len(got) != 2 {
		t.Errorf("all categories (an archived one included): %q", got)
	}
	res := f.search(t, store.SearchQuery{Text: "heron", CategoryID: other.ID})
	if len(res.Hits) != 1 || unmark(res.Hits[0].Title) != "Heron elsewhere" || res.Hits[0].State() != store.ThreadArchived {
		t.Errorf("one category: %+v", res.Hits)
	}
	if _, err := f.s.Search(bg, f.t, store.SearchQuery{Text: "heron", CategoryID: "nope", Page: 1}); fieldErr(t, err, "category") == "" {
		t.Error("no message")
	}
}

func TestSearchInput(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, _ := f.thread(t, "Ibis")
	for i := range 3 {
		f.reply(t, f.user, th.ID, fmt.Sprintf("ibis reply %d", i))
	}
	if res := f.search(t, store.SearchQuery{Text: "   "}); len(res.Hits) != 0 || res.NoTerms {
		t.Errorf("blank: %+v", res)
	}
	if res := f.search(t, store.SearchQuery{Text: "the and of"}); len(res.Hits) != 0 || !res.NoTerms {
		t.Errorf("stop words: %+v", res)
	}
	if res := f.search(t, store.SearchQuery{Text: `"unclosed -- OR or & | ! :* ('`}); len(res.Hits) != 0 {
		t.Errorf("punctuation: %+v", res)
	}
	long := strings.Repeat("ibis ", store.MaxSearchText/5+1)
	_, err := f.s.Search(bg, f.t, store.SearchQuery{Text: long, Page: 1})
	if msg := fieldErr(t, err, "q"); !strings.Contains(msg, "at most 200") {
		t.Errorf("too long: %q", msg)
	}
	_, err = f.s.Search(bg, f.t, store.SearchQuery{Text: "ibis", Page: 0})
	fieldErr(t, err, "page")
	if res := f.search(t, store.SearchQuery{Text: "ibis", Page: 99}); len(res.Hits) != 0 || res.Pager.HasNext || !res.Pager.HasPrev {
		t.Errorf("past the end: %+v", res)
	}
	// Web search syntax: a phrase, an exclusion, or.
	if res := f.search(t, store.SearchQuery{Text: `"ibis reply" -ibis`}); len(res.Hits) != 0 {
		t.Errorf("exclusion: %+v", res.Hits)
	}
	if res := f.search(t, store.SearchQuery{Text: `nothing or ibis`}); len(res.Hits) != 1 {
		t.Errorf("or: %+v", res.Hits)
	}
}

// Pages of results, and the bound on how many matches are ranked: a word
// in more posts than SearchRanked is ranked over the newest ones, and an
// old thread titled for it is still found.
func TestSearchPagesAndBound(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	f.thread(t, "Lemur handbook") // the oldest
	for i := range store.SearchPerPage + 5 {
		f.thread(t, fmt.Sprintf("Thread %d about lemur care", i))
	}
	res := f.search(t, store.SearchQuery{Text: "lemur"})
	if len(res.Hits) != store.SearchPerPage || !res.Pager.HasNext || res.Threads != store.SearchPerPage+6 || res.Capped {
		t.Fatalf("page 1: %d hits, next %v, threads %d, capped %v", len(res.Hits), res.Pager.HasNext, res.Threads, res.Capped)
	}
	res2 := f.search(t, store.SearchQuery{Text: "lemur", Page: 2})
	if len(res2.Hits) != 6 || res2.Pager.HasNext {
		t.Fatalf("page 2: %d hits, next %v", len(res2.Hits), res2.Pager.HasNext)
	}
	seen := map[string]bool{}
	for _, h := range append(res.Hits, res2.Hits...) {
		if seen[h.ThreadID] {
			t.Errorf("thread %s on two pages", h.ThreadID)
		}
		seen[h.ThreadID] = true
	}

	busy, _ := f.thread(t, "Busy thread")
	if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`INSERT INTO {tenant}.forum_posts (thread_id, content, author_type, author_id, created_at)
		SELECT $1, 'another lemur post ' || i, 'human', $2, now() + i * interval '1 millisecond' FROM generate_series(1, $3) AS i`),
		busy.ID, fmt.Sprint(f.user), store.SearchRanked+10); err != nil {
		t.Fatal(err)
	}
	res = f.search(t, store.SearchQuery{Text: "lemur"})
	if !res.Capped {
		t.Error("not capped")
	}
	// Every titled thread still ranks (above the busy one, whose body
	// only says it), however many newer posts matched.
	var all []store.SearchHit
	for p := 1; p < 4; p++ {
		all = append(all, f.search(t, store.SearchQuery{Text: "lemur", Page: p}).Hits...)
	}
	if len(all) != store.SearchPerPage+7 || all[0].ThreadID == busy.ID {
		t.Fatalf("%d threads over the pages, want the %d titled ones and the busy one after them", len(all), store.SearchPerPage+6)
	}
	var busyHit *store.SearchHit
	for i, h := range all {
		if h.ThreadID == busy.ID {
			busyHit = &all[i]
		}
	}
	if busyHit == nil || busyHit.PostPage != (store.SearchRanked+10)/store.ForumPostsPerPage+1 {
		t.Errorf("busy thread's hit %+v: want its newest post, on the last page", busyHit)
	}
}

// Posts by agents and by the system are found with their author's name.
func TestSearchNamesAgentAndSystemAuthors(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, _ := f.thread(t, "Questions")
	var agent string
	if err := f.s.DB.GetContext(bg, &agent, f.t.SQL(`INSERT INTO {tenant}.agents (name, system_prompt) VALUES ('Ticket Manager', 'You help.') RETURNING id`)); err != nil {
		t.Fatal(err)
	}
	for _, a := range [][2]string{{"agent", agent}, {"system", "forums"}} {
		if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`INSERT INTO {tenant}.forum_posts (thread_id, content, author_type, author_id)
			VALUES ($1, 'The tapir answer from ' || $2, $2, $3)`), th.ID, a[0], a[1]); err != nil {
			t.Fatal(err)
		}
	}
	if res := f.search(t, store.SearchQuery{Text: "tapir agent"}); len(res.Hits) != 1 || res.Hits[0].AuthorName != "Ticket Manager" {
		t.Errorf("agent's post: %+v", res.Hits)
	}
	if res := f.search(t, store.SearchQuery{Text: "tapir system"}); len(res.Hits) != 1 || res.Hits[0].AuthorName != "FleetPrompt" {
		t.Errorf("system's post: %+v", res.Hits)
	}
}

// The responder's retrieval reads the same documents.
func TestSearchForumStillAnswers(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, _ := f.thread(t, "Flamingo feeding")
	f.reply(t, f.user, th.ID, "Shrimp, mostly.")
	hits, err := f.s.SearchForum(bg, f.t, store.ForumQuery{Text: "what do flamingo eat? shrimp", Any: true, Limit: 5})
	if err != nil || len(hits) != 2 {
		t.Fatalf("%v %+v", err, hits)
	}
}
