package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/store"
)

// modKey is the idempotency key rendered into the moderation form whose
// action ends with suffix.
func modKey(t *testing.T, d *goquery.Document, suffix string) string {
	t.Helper()
	sel := d.Find(`form[action$="` + suffix + `"] input[name=idempotency_key]`)
	key, ok := sel.Attr("value")
	if !ok || len(key) < 16 {
		t.Fatalf("no idempotency key in the %s form", suffix)
	}
	return key
}

func TestLockUnlockLockByDirectivesOverHTTP(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("lk")
	fs.runJobs(o.slug)
	c := o.owner
	path := "/forums/t/" + o.threadID
	subject := store.Subject{Type: store.SubjectForumThread, ID: o.threadID}
	status := func() string {
		return c.get(path).doc(t).Find("[data-testid=thread-status]").AttrOr("data-status", "")
	}

	var keys []string
	for i, step := range []struct{ action, want string }{{"lock", "locked"}, {"unlock", "open"}, {"lock", "locked"}} {
		key := modKey(t, c.get(path).doc(t), "/"+step.action)
		keys = append(keys, key)
		r := c.post(path+"/"+step.action, url.Values{"idempotency_key": {key}})
		wantStatus(t, r, http.StatusSeeOther)
		if r.Header.Get("Location") != path {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		ds := fs.waitDirectives(o.slug, subject)
		if len(ds) != i+1 || ds[i].Status != store.DirectiveSucceeded {
			t.Fatalf("step %d: directives %+v", i, ds)
		}
		if got := status(); got != step.want {
			t.Fatalf("step %d: status %s, want %s", i, got, step.want)
		}
	}
	if keys[0] == keys[2] {
		t.Error("two renders gave the same idempotency key")
	}
	// A resent form makes no new directive.
	wantStatus(t, c.post(path+"/lock", url.Values{"idempotency_key": {keys[2]}}), http.StatusSeeOther)
	if ds := fs.waitDirectives(o.slug, subject); len(ds) != 3 {
		t.Errorf("a resent form made a directive: %d", len(ds))
	}
	// Locked: the page says so, and a reply is refused with a message.
	d := c.get(path).doc(t)
	if d.Find("[data-testid=reply-closed]").Length() != 1 || d.Find(`form[action$="/unlock"]`).Length() != 1 {
		t.Error("locked thread page")
	}
	r := c.post(path+"/replies", url.Values{"body": {"still here?"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(text(r.doc(t), ".form-error"), "locked") {
		t.Errorf("reply to locked: %q", text(r.doc(t), ".form-error"))
	}
	// The audit trail, oldest first, has one row per directive with its
	// outcome, and the signals it caused folded inside (SPEC §16).
	var rows []string
	d.Find("#audit [data-testid=audit-row]").Each(func(_ int, s *goquery.Selection) {
		rows = append(rows, s.AttrOr("data-kind", "")+":"+s.AttrOr("data-name", ""))
	})
	want := "signal:forum.thread.created signal:forum.post.created signal:forum.post.created " +
		"directive:forum.thread.lock directive:forum.thread.unlock directive:forum.thread.lock"
	if joined := strings.Join(rows, " "); joined != want {
		t.Errorf("audit rows\n%s\nwant\n%s", joined, want)
	}
	if got := text(d, "#audit [data-kind=directive] [data-testid=directive-status]"); got != "succeededsucceededsucceeded" {
		t.Errorf("directive statuses %q", got)
	}
	var facts []string
	d.Find("#audit [data-kind=directive]").First().Find("[data-testid=audit-facts] li").Each(func(_ int, s *goquery.Selection) {
		facts = append(facts, s.AttrOr("data-name", ""))
	})
	if got := strings.Join(facts, " "); got != "directive.requested directive.started forum.thread.locked directive.succeeded" {
		t.Errorf("the lock's folded signals: %q", got)
	}
	if !strings.Contains(text(d, "#audit"), "Owner "+o.slug) {
		t.Error("audit rows should name the actor")
	}

	// htmx: the status fragment comes back in place, with fresh keys.
	r = c.post(path+"/unlock", url.Values{"idempotency_key": {"hx-" + o.slug}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if hd := r.doc(t); hd.Find("#thread-status").Length() != 1 || strings.Contains(r.Body, "<html") {
		t.Errorf("htmx unlock fragment:\n%s", r.Body)
	}
	fs.waitDirectives(o.slug, subject)
}

func TestHideUnhideDeleteOverHTTP(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("hd")
	fs.runJobs(o.slug)
	owner := o.owner
	mslug := "m" + o.slug
	member := fs.client()
	member.register(mslug)
	fs.addMember(member, o.slug, mslug+"@example.com", "member")
	path := "/forums/t/" + o.threadID
	post := "#post-" + o.postID
	subject := store.Subject{Type: store.SubjectForumPost, ID: o.postID}

	act := func(action string) {
		t.Helper()
		key := modKey(t, owner.get(path).doc(t), "/forums/posts/"+o.postID+"/"+action)
		r := owner.post("/forums/posts/"+o.postID+"/"+action, url.Values{"idempotency_key": {key}})
		wantStatus(t, r, http.StatusSeeOther)
		if r.Header.Get("Location") != path+post {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		for _, d := range fs.waitDirectives(o.slug, subject) {
			if d.Status != store.DirectiveSucceeded {
				t.Fatalf("%s: %s %s", d.Name, d.Status, d.LastError)
			}
		}
	}
	memberSees := func() bool { return member.get(path).doc(t).Find(post).Length() == 1 }

	if !memberSees() {
		t.Fatal("member should see the published reply")
	}
	act("hide")
	if memberSees() || strings.Contains(member.get(path).Body, "First reply of") {
		t.Error("a hidden post is visible to members")
	}
	d := owner.get(path).doc(t)
	if d.Find(post+" [data-testid=post-placeholder]").Length() != 1 || d.Find(post+` form[action$="/unhide"]`).Length() != 1 {
		t.Error("moderators should see a placeholder with restore")
	}
	if got := text(member.get("/forums").doc(t), "#thread-"+o.threadID+" [data-testid=reply-count]"); got != "0" {
		t.Errorf("reply count with the reply hidden: %q", got)
	}
	act("unhide")
	if !memberSees() {
		t.Error("restored post not visible")
	}
	act("delete")
	if memberSees() {
		t.Error("a deleted post is visible to members")
	}
	d = owner.get(path).doc(t)
	if text(d, post+" [data-testid=post-placeholder]") == "" || d.Find(post+` form[action$="/unhide"]`).Length() != 0 {
		t.Error("deleted placeholder missing for moderators, or it offers unhide")
	}
	// Delete is final for unhide: the request is refused, with a message.
	r0 := owner.post("/forums/posts/"+o.postID+"/unhide", url.Values{"idempotency_key": {"late-unhide-" + o.slug}})
	wantStatus(t, r0, http.StatusUnprocessableEntity)
	if !strings.Contains(r0.Body, "unhide does not bring it back") || memberSees() {
		t.Error("unhide of a deleted post")
	}
	act("restore")
	if !memberSees() {
		t.Error("a deleted post can be restored explicitly")
	}

	// htmx: the post fragment comes back with the request noted.
	r := owner.post("/forums/posts/"+o.postID+"/hide", url.Values{"idempotency_key": {"hx-" + o.slug}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if r.doc(t).Find("article"+post).Length() != 1 {
		t.Errorf("htmx hide fragment:\n%s", r.Body)
	}
	fs.waitDirectives(o.slug, subject)
}

// Posts and audit rows are rendered once and reused (forum_fragments.go):
// the moderation forms must still carry fresh keys on every render, one
// per form, and never the cached placeholder.
func TestReusedPostFragmentsGetFreshKeysOnEveryRender(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("fk")
	path := "/forums/t/" + o.threadID
	keysOf := func() []string {
		r := o.owner.get(path)
		wantStatus(t, r, http.StatusOK)
		var keys []string
		r.doc(t).Find(`#posts input[name=idempotency_key]`).Each(func(_ int, s *goquery.Selection) {
			keys = append(keys, s.AttrOr("value", ""))
		})
		return keys
	}
	first, second := keysOf(), keysOf()
	if len(first) != 4 || len(second) != 4 { // hide and delete on two posts
		t.Fatalf("keys %v then %v", first, second)
	}
	seen := map[string]bool{}
	for _, k := range append(first, second...) {
		if len(k) != 32 || k == "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0" || seen[k] {
			t.Errorf("key %q: placeholder, malformed or used twice in %v %v", k, first, second)
		}
		seen[k] = true
	}
	if strings.Contains(o.owner.get(path).Body, "f0f0f0f0f0f0f0f0") {
		t.Error("a placeholder key reached a page")
	}
}
