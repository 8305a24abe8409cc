package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/store"
)

// searchOrg is an organization with threads to search: one titled for
// "narwhal", one whose reply says it, a hidden reply that says it too.
type searchOrg struct {
	*adminOrg
	as                    *adminSite
	tn                    store.Tenant
	cat                   store.ForumCategory
	titled, other         store.ForumThread
	reply, hidden, script store.ForumPost
}

func newSearchOrg(t *testing.T, as *adminSite, prefix string) *searchOrg {
	t.Helper()
	o := &searchOrg{adminOrg: as.newAdminOrg(prefix), as: as}
	o.tn = as.tenantOf(o.slug)
	var err error
	if o.cat, err = as.store.CreateForumCategory(ctx, o.tn, o.ownerID, store.NewForumCategory{Name: "Sea life"}); err != nil {
		t.Fatal(err)
	}
	o.titled = o.thread(t, "Narwhal tusks explained", "Long teeth, really.")
	o.other = o.thread(t, "Whales in general", "Let us talk about whales.")
	o.reply = o.post(t, o.other.ID, "I once saw a narwhal near Svalbard.")
	o.hidden = o.post(t, o.other.ID, "A narwhal rumour the moderators hid.")
	if _, err := as.store.DB.ExecContext(ctx, o.tn.SQL(`UPDATE {tenant}.forum_posts SET status = 'hidden' WHERE id = $1`), o.hidden.ID); err != nil {
		t.Fatal(err)
	}
	o.script = o.post(t, o.other.ID, `Beluga <script>alert("beluga")</script> <img src=x onerror=alert(1)> & "quotes" 'single' beluga`)
	return o
}

func (o *searchOrg) thread(t *testing.T, title, body string) store.ForumThread {
	t.Helper()
	th, _, err := o.as.store.CreateForumThread(ctx, o.tn, o.memberID, store.NewForumThread{CategoryID: o.cat.ID, Title: title, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func (o *searchOrg) post(t *testing.T, threadID, body string) store.ForumPost {
	t.Helper()
	_, p, err := o.as.store.CreateForumReply(ctx, o.tn, o.memberID, threadID, body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// searchHits is c's search page for q (200 expected) and its hits.
func searchHits(t *testing.T, c *client, q string) (*response, *goquery.Selection) {
	t.Helper()
	r := c.get(searchPath(q))
	wantStatus(t, r, http.StatusOK)
	return r, r.doc(t).Find(`[data-testid=search-hit]`)
}

func searchPath(q string, extra ...string) string {
	v := url.Values{"q": {q}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return "/search?" + v.Encode()
}

// A member finds the titled thread first, then the reply (linked at its
// post), never the hidden post; a moderator sees the hidden one marked.
func TestSearchPageFindsRepliesNotHiddenPosts(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := newSearchOrg(t, as, "srch")

	r, hits := searchHits(t, o.member, "narwhal")
	d := r.doc(t)
	if hits.Length() != 2 {
		t.Fatalf("%d hits:\n%s", hits.Length(), r.Body)
	}
	if got := strings.TrimSpace(hits.Eq(0).Find(".thread-title").Text()); got != o.titled.Title {
		t.Errorf("first hit %q, want the thread titled for the word", got)
	}
	if got := hits.Eq(0).Find(".thread-title mark").Text(); got != "Narwhal" {
		t.Errorf("title's mark %q", got)
	}
	second := hits.Eq(1)
	href, _ := second.Find(".thread-title").Attr("href")
	if href != "/forums/t/"+o.other.ID+"?page=1#post-"+o.reply.ID {
		t.Errorf("reply link %q", href)
	}
	if !strings.Contains(second.Text(), "Reply by") || second.Find(".search-snippet mark").Text() != "narwhal" {
		t.Errorf("reply hit: %q", second.Text())
	}
	if strings.Contains(r.Body, "rumour") || d.Find(`[data-testid=search-hit-hidden]`).Length() != 0 {
		t.Error("a member finds the hidden post")
	}
	if text(d, `[data-testid=search-summary]`) != "2 threads match." {
		t.Errorf("summary %q", text(d, `[data-testid=search-summary]`))
	}
	// The thread page the link opens has the post.
	if page := o.member.get(href); page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "post-"+o.reply.ID) {
		t.Errorf("the hit's thread page: %d", page.StatusCode)
	}

	r = o.admin.get(searchPath("rumour"))
	wantStatus(t, r, http.StatusOK)
	d = r.doc(t)
	if d.Find(`[data-testid=search-hit-hidden]`).Length() != 1 || !strings.Contains(r.Body, "rumour") {
		t.Errorf("a moderator does not see the hidden post marked:\n%s", r.Body)
	}
	// As you type: htmx gets the results block only.
	r = o.member.get(searchPath("svalbard"), "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.Body, "<html") || strings.Contains(r.Body, "search-form") || r.doc(t).Find(`#search-results [data-testid=search-hit]`).Length() != 1 {
		t.Errorf("fragment:\n%.1500s", r.Body)
	}
}

// A post's HTML and script are text in a snippet: escaped, with marks
// the search's own and nothing else.
func TestSearchPageEscapesSnippets(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := newSearchOrg(t, as, "srchx")
	r, hit := searchHits(t, o.member, "beluga")
	if hit.Length() != 1 {
		t.Fatalf("%d hits", hit.Length())
	}
	if n := hit.Find("script, img, b").Length(); n != 0 {
		t.Errorf("%d elements from the post's HTML in the hit:\n%s", n, r.Body)
	}
	if r.doc(t).Find("script:not([src])").Length() != 0 {
		t.Error("an inline script on the page")
	}
	snippet, _ := hit.Find(".search-snippet").Html()
	if strings.Count(snippet, "<mark>") != 2 || strings.Count(snippet, "</mark>") != 2 {
		t.Errorf("snippet %s: want the two matches marked, nothing else", snippet)
	}
	if !strings.Contains(snippet, "&amp;") || !strings.Contains(snippet, "&#34;quotes&#34;") {
		t.Errorf("snippet %s: the text is not escaped", snippet)
	}
}

func TestSearchPageBadInput(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := newSearchOrg(t, as, "srchin")

	r := o.member.get("/search")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if d.Find(`[data-testid=search-empty] a[href="/forums"]`).Length() != 1 {
		t.Errorf("empty search: no helpful empty state\n%s", r.Body)
	}
	if _, ok := d.Find("#search-q").Attr("autofocus"); !ok {
		t.Error("the empty search's box is not focused")
	}
	if d.Find(`header form[role=search] input[name=q]`).Length() != 1 {
		t.Error("no search box in the header")
	}
	for _, tc := range []struct {
		name, path string
		status     int
		want       string // in the page
	}{
		{"too long", searchPath(strings.Repeat("narwhal ", 30)), http.StatusUnprocessableEntity, "at most 200 characters"},
		{"unknown category", searchPath("narwhal", "category", "bogus"), http.StatusUnprocessableEntity, `There is no category &#34;bogus&#34;`},
		{"page not a number", searchPath("narwhal", "page", "two"), http.StatusUnprocessableEntity, "not a page number"},
		{"page zero", searchPath("narwhal", "page", "0"), http.StatusUnprocessableEntity, "not a page number"},
		{"page past the end", searchPath("narwhal", "page", "40"), http.StatusOK, "There is no page 40"},
		{"page far past the end", searchPath("narwhal", "page", "2147483647"), http.StatusOK, "There is no page"},
		{"stop words only", searchPath("the of and"), http.StatusOK, "only words too common"},
		{"no match", searchPath("okapi"), http.StatusOK, "No thread matches"},
		{"syntax", searchPath(`"unclosed -( ) & | ! :*`), http.StatusOK, "No thread matches"},
		{"one category", searchPath("narwhal", "category", o.cat.Slug), http.StatusOK, "2 threads match"},
	} {
		r := o.member.get(tc.path)
		if r.StatusCode != tc.status || !strings.Contains(r.Body, tc.want) {
			t.Errorf("%s: %d, want %d with %q\n%.3000s", tc.name, r.StatusCode, tc.status, tc.want, r.Body)
		}
	}
	// A refusal keeps the form and ties the message to its field; htmx
	// gets it in the results block.
	r = o.member.get(searchPath("narwhal", "category", "bogus"))
	d = r.doc(t)
	if v, _ := d.Find("#search-category").Attr("aria-describedby"); v != "search-error-category" || d.Find("#search-error-category").Length() != 1 {
		t.Errorf("category error not tied to its field: %q", v)
	}
	if v, _ := d.Find("#search-q").Attr("value"); v != "narwhal" {
		t.Errorf("the words are not kept: %q", v)
	}
	r = o.member.get(searchPath(strings.Repeat("x", 201)), "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, "at most 200") {
		t.Errorf("htmx refusal:\n%.1000s", r.Body)
	}
}

// Pages of results link to each other with the search kept.
func TestSearchPagePages(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := newSearchOrg(t, as, "srchpg")
	for range store.SearchPerPage + 1 {
		o.thread(t, "Another orca thread", "Orcas everywhere.")
	}
	r := o.member.get(searchPath("orca"))
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	next, _ := d.Find(`[data-testid=search-next]`).Attr("href")
	if d.Find(`[data-testid=search-hit]`).Length() != store.SearchPerPage || next != searchPath("orca", "page", "2") {
		t.Fatalf("page 1: %d hits, next %q", d.Find(`[data-testid=search-hit]`).Length(), next)
	}
	r = o.member.get(next)
	d = r.doc(t)
	if d.Find(`[data-testid=search-hit]`).Length() != 1 || d.Find(`a[rel=prev]`).Length() != 1 || d.Find(`[data-testid=search-next]`).Length() != 0 {
		t.Errorf("page 2:\n%s", r.Body)
	}
}

// Another organization's threads are never found, nor its categories
// accepted.
func TestSearchPageStaysInItsOrganization(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	a, b := newSearchOrg(t, as, "srcha"), newSearchOrg(t, as, "srchb")
	b.thread(t, "Axolotl care for "+b.slug, "Only B knows.")
	r, hits := searchHits(t, a.owner, "axolotl")
	if strings.Contains(r.Body, b.slug) || hits.Length() != 0 {
		t.Errorf("A finds B's thread:\n%s", r.Body)
	}
	if _, hits := searchHits(t, b.member, "axolotl"); hits.Length() != 1 {
		t.Error("B does not find its own thread")
	}
	// Category slugs are per organization: B's own slug is A's too here,
	// so a slug only B has is refused.
	if _, err := as.store.CreateForumCategory(ctx, b.tn, b.ownerID, store.NewForumCategory{Name: "Only B " + b.slug}); err != nil {
		t.Fatal(err)
	}
	r = a.owner.get(searchPath("axolotl", "category", store.DeriveCategorySlug("Only B "+b.slug)))
	wantStatus(t, r, http.StatusUnprocessableEntity)
}
