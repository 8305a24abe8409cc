package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestNewThreadWithoutCategoriesLinksToCreatingOne(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	c := fs.client()
	c.register(storetest.Name("nocat"))
	r := c.get("/forums/new")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if d.Find("[data-testid=no-categories]").Length() != 1 || d.Find(`a[data-testid=create-category][href="/forums/categories/new"]`).Length() != 1 {
		t.Errorf("no-categories notice or link missing:\n%s", text(d, "main"))
	}
	if d.Find("#thread-form").Length() != 0 {
		t.Error("the form is shown without categories")
	}
	if c.get("/forums").doc(t).Find(`[data-testid=no-categories] a[href="/forums/categories/new"]`).Length() != 1 {
		t.Error("/forums should link to creating the first category")
	}
}

func TestCategoryCreateFormAndDebugPanel(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	c := fs.client()
	slug := storetest.Name("cf")
	c.register(slug)
	r := c.get("/forums/categories/new?fp_debug=1")
	wantStatus(t, r, http.StatusOK)
	if got := text(r.doc(t), "[data-testid=debug-tenant]"); got != "org_"+slug {
		t.Errorf("debug tenant %q", got)
	}
	if c.get("/forums/categories/new").doc(t).Find("[data-testid=debug-panel]").Length() != 0 {
		t.Error("debug panel without fp_debug")
	}
	r = c.post("/forums/categories?fp_debug=1", url.Values{"name": {"Ideas"}, "slug": {"Bad Slug"}, "description": {"kept"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := r.doc(t)
	if text(d, "#field-slug .error") == "" || d.Find("#name").AttrOr("value", "") != "Ideas" || text(d, "#description") != "kept" {
		t.Errorf("422 should keep input with a message:\n%s", text(d, "form"))
	}
	if text(d, "[data-testid=debug-can-submit]") != "false" || !strings.Contains(text(d, "[data-testid=debug-errors]"), "slug:") {
		t.Errorf("debug panel: %q / %q", text(d, "[data-testid=debug-can-submit]"), text(d, "[data-testid=debug-errors]"))
	}
	// htmx: the form fragment alone.
	r = c.post("/forums/categories", url.Values{"name": {""}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="category-form"`) {
		t.Errorf("htmx 422 should be the form fragment:\n%.500s", r.Body)
	}
	r = c.post("/forums/categories", url.Values{"name": {"Product News"}})
	wantStatus(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != "/forums/c/product-news" {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	if text(c.get("/forums/c/product-news").doc(t), "h1") != "Product News" {
		t.Error("category page")
	}
	wantStatus(t, c.post("/forums/categories", url.Values{"name": {"Product News"}}), http.StatusUnprocessableEntity)
}

func TestThreadCreateAndPage(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("th")
	c := o.owner
	// ?category_id= preselects; the debug panel reports the form.
	r := c.get("/forums/new?fp_debug=1&category_id=" + o.catID)
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if v, _ := d.Find("#category_id option[selected]").Attr("value"); v != o.catID {
		t.Errorf("preselected %q", v)
	}
	if text(d, "[data-testid=debug-can-submit]") != "true" || text(d, "[data-testid=debug-tenant]") != "org_"+o.slug {
		t.Error("debug panel on the thread form")
	}
	// Invalid: 422 with messages and kept input; htmx gets the fragment.
	r = c.post("/forums/threads", url.Values{"category_id": {o.catID}, "title": {strings.Repeat("t", 201)}, "body": {"kept body"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d = r.doc(t)
	if text(d, "#field-title .error") == "" || text(d, "#body") != "kept body" {
		t.Errorf("422 thread form:\n%s", text(d, "form"))
	}
	r = c.post("/forums/threads", url.Values{"category_id": {""}, "title": {""}, "body": {""}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(r.Body, "<html") || r.doc(t).Find("#thread-form .error").Length() != 3 {
		t.Errorf("htmx 422:\n%.800s", r.Body)
	}
	// Valid: 303 to the thread page, which shows the post rendered safely.
	r = c.post("/forums/threads", url.Values{"category_id": {o.catID}, "title": {"Markdown"},
		"body": {"**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"}})
	wantStatus(t, r, http.StatusSeeOther)
	page := c.get(r.Header.Get("Location"))
	wantStatus(t, page, http.StatusOK)
	d = page.doc(t)
	if text(d, "[data-testid=thread-title]") != "Markdown" || text(d, ".post-body strong") != "bold" {
		t.Errorf("thread page:\n%s", text(d, "main"))
	}
	if d.Find(".post-body script, .post-body img, .post-body [onerror], .post-body a[href^=javascript]").Length() != 0 {
		t.Errorf("unsafe markup survived: %s", page.Body)
	}
	// The live hooks: a stream URL resuming after the render's seq, and
	// the posts container listening for new posts.
	sse, _ := d.Find("[sse-connect]").Attr("sse-connect")
	seq, _ := d.Find("[sse-connect]").Attr("data-seq")
	if !strings.HasPrefix(sse, "/events?topic=thread:") || !strings.HasSuffix(sse, "&last_event_id="+seq) || seq == "0" || seq == "" {
		t.Errorf("sse-connect %q seq %q", sse, seq)
	}
	if v, _ := d.Find("#posts").Attr("sse-swap"); v != "forum.post.created" {
		t.Errorf("#posts sse-swap %q", v)
	}
	if page.Header.Get("Vary") != "HX-Request" {
		t.Error("Vary: HX-Request missing")
	}
	// Listed on /forums with its reply count, and in its category.
	d = c.get("/forums").doc(t)
	if d.Find(`[data-testid=thread-row] a[href="/forums/t/`+o.threadID+`"]`).Length() != 1 {
		t.Error("thread missing from /forums")
	}
	if got := text(d, "#thread-"+o.threadID+" [data-testid=reply-count]"); got != "1" {
		t.Errorf("reply count %q", got)
	}
	if c.get("/forums/c/"+o.catSlug).doc(t).Find("[data-testid=thread-row]").Length() != 2 {
		t.Error("category page threads")
	}
}

func TestReplyPlainAndHTMX(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("rp")
	c := o.owner
	path := "/forums/t/" + o.threadID
	r := c.post(path+"/replies", url.Values{"body": {"plain _reply_"}})
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, path+"?page=1#post-") {
		t.Errorf("Location %q", loc)
	}
	pid := loc[strings.Index(loc, "#post-")+6:]
	if text(c.get(path).doc(t), "#post-"+pid+" .post-body em") != "reply" {
		t.Error("the reply is not on the page under its anchor")
	}
	// htmx: just the new post, ready to append to #posts.
	r = c.post(path+"/replies", url.Values{"body": {"via htmx"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if strings.Contains(r.Body, "<html") || d.Find("article.post[id^=post-]").Length() != 1 || text(d, ".post-body") != "via htmx" {
		t.Errorf("htmx reply fragment:\n%s", r.Body)
	}
	// The page's reply form targets #posts and is reset on success.
	form := c.get(path).doc(t).Find("#reply-form")
	if form.AttrOr("hx-target", "") != "#posts" || form.AttrOr("hx-swap", "") != "beforeend" || form.AttrOr("data-reset-on-success", "x") == "x" {
		t.Errorf("reply form attributes: %v", form.Nodes[0].Attr)
	}
	// Invalid, htmx: the form re-rendered in place with its message.
	r = c.post(path+"/replies", url.Values{"body": {"  "}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if r.Header.Get("HX-Retarget") != "#reply-form" || r.Header.Get("HX-Reswap") != "outerHTML" || text(r.doc(t), "#field-body .error") == "" {
		t.Errorf("htmx invalid reply: %v\n%s", r.Header, r.Body)
	}
	// Invalid, plain: the page again, 422, input kept.
	long := strings.Repeat("x", store.MaxPostContent+1)
	r = c.post(path+"/replies", url.Values{"body": {long}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if d := r.doc(t); text(d, "#field-body .error") == "" || text(d, "#body") != long || text(d, "[data-testid=thread-title]") == "" {
		t.Error("plain invalid reply should re-render the thread page with the message")
	}
}

func TestArchiveAndRestoreCategory(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("ar")
	c := o.owner
	r := c.post("/forums/c/"+o.catSlug+"/archive", nil)
	wantStatus(t, r, http.StatusSeeOther)
	d := c.get("/forums/c/" + o.catSlug).doc(t)
	if d.Find("[data-testid=archived-notice]").Length() != 1 || d.Find(`form[action$="/restore"]`).Length() != 1 {
		t.Error("archived category page")
	}
	if c.get("/forums").doc(t).Find(`[data-slug="`+o.catSlug+`"] [data-testid=archived]`).Length() != 1 {
		t.Error("/forums does not mark the archived category")
	}
	if c.get("/forums/new").doc(t).Find("[data-testid=no-categories]").Length() != 1 {
		t.Error("an archived category is still offered for new threads")
	}
	r = c.post("/forums/threads", url.Values{"category_id": {o.catID}, "title": {"late"}, "body": {"x"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(text(r.doc(t), "#field-category_id .error"), "archived") {
		t.Error("message for an archived category")
	}
	r = c.post("/forums/t/"+o.threadID+"/replies", url.Values{"body": {"late"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(text(r.doc(t), ".form-error"), "archived") {
		t.Errorf("reply into archived: %q", text(r.doc(t), ".form-error"))
	}
	if got := c.get("/forums/t/"+o.threadID).doc(t).Find("[data-testid=thread-status]").AttrOr("data-status", ""); got != "archived" {
		t.Errorf("thread status %q", got)
	}
	wantStatus(t, c.post("/forums/c/"+o.catSlug+"/restore", nil), http.StatusSeeOther)
	wantStatus(t, c.post("/forums/t/"+o.threadID+"/replies", url.Values{"body": {"back"}}), http.StatusSeeOther)
	wantStatus(t, c.post("/forums/c/no-such-category/archive", nil), http.StatusNotFound)
}

func TestThreadPagination(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("pg")
	tn := fs.tenantOf(o.slug)
	var uid int64
	fs.store.DB.GetContext(ctx, &uid, `SELECT id FROM users WHERE email = $1`, o.slug+"@example.com")
	for i := 0; i < store.ForumPostsPerPage; i++ {
		if _, _, err := fs.store.CreateForumReply(ctx, tn, uid, o.threadID, "bulk"); err != nil {
			t.Fatal(err)
		}
	}
	path := "/forums/t/" + o.threadID
	d := o.owner.get(path).doc(t)
	if n := d.Find("#posts article.post").Length(); n != store.ForumPostsPerPage {
		t.Errorf("page 1 has %d posts", n)
	}
	if d.Find(`.pager a[rel=next][href="`+path+`?page=2"]`).Length() == 0 {
		t.Error("no link to page 2")
	}
	if n := o.owner.get(path + "?page=2").doc(t).Find("#posts article.post").Length(); n != 2 {
		t.Errorf("page 2 has %d posts", n)
	}
	r := o.owner.post(path+"/replies", url.Values{"body": {"newest"}})
	if !strings.HasPrefix(r.Header.Get("Location"), path+"?page=2#post-") {
		t.Errorf("reply redirect %q should point at page 2", r.Header.Get("Location"))
	}
	// A member's reply is placed by the thread's count of published posts.
	mslug := "m" + o.slug
	member := fs.client()
	member.register(mslug)
	fs.addMember(member, o.slug, mslug+"@example.com", "member")
	r = member.post(path+"/replies", url.Values{"body": {"a member's"}})
	if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, path+"?page=2#post-") {
		t.Errorf("member's reply redirect %q should point at page 2", loc)
	}
}
