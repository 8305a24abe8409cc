package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetprompt/store/storetest"
)

// Sign-out ends a cached session at once in the process that signed out,
// and in another process (another handler instance on the same database)
// as soon as the live hub's announcement arrives: well before the cache's
// time limit.
func TestCachedSessionEndsOnSignOutInEveryProcess(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	a, _ := newLiveSite(t, st)
	b, _ := newLiveSite(t, st)
	c := a.client()
	c.register(storetest.Name("sc"))
	here := a.client()
	here.http.Jar.SetCookies(mustURL(a.srv.URL), c.http.Jar.Cookies(mustURL(a.srv.URL)))
	there := b.client()
	there.http.Jar.SetCookies(mustURL(b.srv.URL), c.http.Jar.Cookies(mustURL(a.srv.URL)))
	wantStatus(t, here.get("/dashboard"), http.StatusOK)  // cached in a
	wantStatus(t, there.get("/dashboard"), http.StatusOK) // cached in b

	wantStatus(t, c.post("/logout", nil), http.StatusSeeOther)
	wantStatus(t, here.get("/dashboard"), http.StatusSeeOther)
	deadline := time.Now().Add(time.Second) // the cache's limit is 2 s
	for there.get("/dashboard").StatusCode != http.StatusSeeOther {
		if time.Now().After(deadline) {
			t.Fatal("the copied cookie still works in the other process")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A reply, seen through a cached thread page: the next render shows it;
// another tenant's thread id is still a 404 after the page was cached.
func TestCachedThreadPageFreshAfterReplyAndIsolated(t *testing.T) {
	t.Parallel()
	s, _ := newLiveSite(t, nil)
	o := s.client()
	slug := storetest.Name("tc")
	o.register(slug)
	wantStatus(t, o.post("/forums/categories", url.Values{"name": {"Cat"}, "slug": {"cat-" + slug}, "description": {"x"}}), http.StatusSeeOther)
	org, err := s.store.OrganizationBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := s.store.ForumCategoryBySlug(ctx, org.Tenant(), "cat-"+slug)
	if err != nil {
		t.Fatal(err)
	}
	r := o.post("/forums/threads", url.Values{"category_id": {cat.ID}, "title": {"Cached"}, "body": {"Opening"}})
	wantStatus(t, r, http.StatusSeeOther)
	path := r.Header.Get("Location")
	wantStatus(t, o.get(path), http.StatusOK) // cached now
	wantStatus(t, o.post(path+"/replies", url.Values{"body": {"Fresh reply body"}}), http.StatusSeeOther)
	if got := o.get(path).Body; !strings.Contains(got, "Fresh reply body") {
		t.Error("the page after a reply does not show it")
	}

	other := s.client()
	other.register(storetest.Name("tx"))
	wantStatus(t, other.get(path), http.StatusNotFound)
}
