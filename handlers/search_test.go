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
