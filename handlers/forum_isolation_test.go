package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every forum route, with the ids of organization A: a member of B gets
// 404 for A's ids (even as B's owner), a plain member of A gets 403 on
// owner/admin actions, a visitor is sent to /login.
func TestForumRoutesIsolation(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	a := fs.newForumOrg("fa")
	b := fs.newForumOrg("fb")
	key := url.Values{"idempotency_key": {"k-" + a.slug}}

	routes := []forumRoute{
		{"GET", "/forums/c/" + a.catSlug, nil, false},
		{"GET", "/forums/t/" + a.threadID, nil, false},
		{"POST", "/forums/t/" + a.threadID + "/replies", url.Values{"body": {"intrusion"}}, false},
		{"POST", "/forums/c/" + a.catSlug + "/archive", nil, true},
		{"POST", "/forums/c/" + a.catSlug + "/restore", nil, true},
		{"POST", "/forums/t/" + a.threadID + "/lock", key, true},
		{"POST", "/forums/t/" + a.threadID + "/unlock", key, true},
		{"POST", "/forums/posts/" + a.postID + "/hide", key, true},
		{"POST", "/forums/posts/" + a.postID + "/unhide", key, true},
		{"POST", "/forums/posts/" + a.postID + "/delete", key, true},
	}
	// B's owner: A's ids do not exist.
	for _, r := range routes {
		if got := r.do(b.owner); got.StatusCode != http.StatusNotFound {
			t.Errorf("B's owner %s %s: %d, want 404", r.method, r.path, got.StatusCode)
		}
	}
	// Nothing of A leaked into B: no directive, no post, no signal about A's ids.
	bt := fs.tenantOf(b.slug)
	var n int
	fs.store.DB.GetContext(ctx, &n, bt.SQL(`SELECT (SELECT count(*) FROM {tenant}.directives) + (SELECT count(*) FROM {tenant}.signals WHERE subject_id IN ($1, $2))`), a.threadID, a.postID)
	if n != 0 {
		t.Errorf("B's schema got %d rows about A's ids", n)
	}
	// A's thread is untouched.
	at := fs.tenantOf(a.slug)
	th, _ := fs.store.ForumThread(ctx, at, a.threadID)
	if th.Status != "open" || th.PostCount != 2 {
		t.Errorf("A's thread changed: %+v", th)
	}
	// B's pages never show A's data.
	for _, path := range []string{"/forums", "/forums/c/" + b.catSlug, "/forums/t/" + b.threadID, "/forums/new"} {
		body := b.owner.get(path).Body
		if strings.Contains(body, a.slug) || strings.Contains(body, a.threadID) || strings.Contains(body, a.catID) {
			t.Errorf("B's %s shows A's data", path)
		}
	}
	// A foreign category cannot receive a thread, nor be preselected.
	r := b.owner.post("/forums/threads", url.Values{"category_id": {a.catID}, "title": {"x"}, "body": {"y"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if text(r.doc(t), "#field-category_id .error") == "" {
		t.Error("no message for a foreign category")
	}
	if b.owner.get("/forums/new?category_id="+a.catID).doc(t).Find("#category_id option[selected]").Length() != 0 {
		t.Error("a foreign category was preselected")
	}

	checkForumRoutesAsMember(t, fs, a, routes)
	checkForumRoutesAsVisitor(t, fs, routes)
}

type forumRoute struct {
	method, path string
	form         url.Values
	adminOnly    bool
}

func (r forumRoute) do(c *client, headers ...string) *response {
	if r.method == "GET" {
		return c.get(r.path, headers...)
	}
	return c.post(r.path, r.form, headers...)
}

// checkForumRoutesAsMember: a plain member of A reads and posts, but
// takes no owner/admin action, and a refusal makes no directive.
func checkForumRoutesAsMember(t *testing.T, fs *forumSite, a *forumOrg, routes []forumRoute) {
	t.Helper()
	at := fs.tenantOf(a.slug)
	// A plain member of A: reads and posts, but no owner/admin action.
	mslug := "m" + a.slug
	member := fs.client()
	member.register(mslug)
	fs.addMember(member, a.slug, mslug+"@example.com", "member")
	for _, r := range routes {
		got := r.do(member)
		switch {
		case r.adminOnly && got.StatusCode != http.StatusForbidden:
			t.Errorf("member %s %s: %d, want 403", r.method, r.path, got.StatusCode)
		case !r.adminOnly && got.StatusCode >= 400:
			t.Errorf("member %s %s: %d", r.method, r.path, got.StatusCode)
		}
	}
	wantStatus(t, member.get("/forums/categories/new"), http.StatusForbidden)
	wantStatus(t, member.post("/forums/categories", url.Values{"name": {"Nope"}}), http.StatusForbidden)
	if d := member.get("/forums/t/" + a.threadID).doc(t); d.Find(`form[action$="/lock"], form[action$="/hide"]`).Length() != 0 {
		t.Error("a member sees moderation forms")
	}
	var dirs int
	fs.store.DB.GetContext(ctx, &dirs, at.SQL(`SELECT count(*) FROM {tenant}.directives`))
	if dirs != 0 {
		t.Errorf("a member's refused requests made %d directives", dirs)
	}
}

// checkForumRoutesAsVisitor: every route sends a visitor to sign in.
func checkForumRoutesAsVisitor(t *testing.T, fs *forumSite, routes []forumRoute) {
	t.Helper()
	// Visitors: every route sends them to sign in.
	visitor := fs.client()
	all := append(routes,
		forumRoute{"GET", "/forums", nil, false}, forumRoute{"GET", "/forums/new", nil, false},
		forumRoute{"GET", "/forums/categories/new", nil, true}, forumRoute{"POST", "/forums/categories", url.Values{"name": {"x"}}, true},
		forumRoute{"POST", "/forums/threads", url.Values{"title": {"x"}}, false})
	for _, r := range all {
		got := r.do(visitor)
		if got.StatusCode != http.StatusSeeOther || !strings.HasPrefix(got.Header.Get("Location"), "/login") {
			t.Errorf("visitor %s %s: %d %s", r.method, r.path, got.StatusCode, got.Header.Get("Location"))
		}
	}
}
