package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"fleetprompt/store"
)

// Bad input is said with the right status: a search too long, an unknown
// category or a bad page number is a 422 with the form kept (htmx too);
// empty words an empty state; a page past the end an empty page.
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
