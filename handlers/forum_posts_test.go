package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// SPEC §16's posts over HTTP: edits, reactions, flags and the queue.

// forumPeople is a forum organization with two plain members besides the
// owner, each with a reply of their own in the thread.
type forumPeople struct {
	*forumOrg
	ana, bo         *client
	anaPost, boPost string
	anaSlug, boSlug string
	threadPath      string
}

func (fs *forumSite) newForumPeople(prefix string) *forumPeople {
	t := fs.t
	t.Helper()
	o := fs.newForumOrg(prefix)
	p := &forumPeople{forumOrg: o, threadPath: "/forums/t/" + o.threadID}
	p.ana, p.anaSlug = fs.member(o.slug, "Ana")
	p.bo, p.boSlug = fs.member(o.slug, "Bo")
	p.anaPost = replyOf(t, p.ana.post(p.threadPath+"/replies", url.Values{"body": {"Ana's answer"}}))
	p.boPost = replyOf(t, p.bo.post(p.threadPath+"/replies", url.Values{"body": {"Bo's answer"}}))
	return p
}

// member registers a person (named name) and makes them a plain member
// of org slug.
func (fs *forumSite) member(slug, name string) (*client, string) {
	fs.t.Helper()
	c := fs.client()
	mslug := storetest.Name(strings.ToLower(name))
	r := c.post("/register", url.Values{"org_name": {"Org " + mslug}, "org_slug": {mslug}, "name": {name + " " + mslug},
		"email": {mslug + "@example.com"}, "password": {"password123"}})
	wantStatus(fs.t, r, http.StatusSeeOther)
	fs.addMember(c, slug, mslug+"@example.com", "member")
	return c, mslug
}

func replyOf(t *testing.T, r *response) string {
	t.Helper()
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	return loc[strings.Index(loc, "#post-")+len("#post-"):]
}

func TestEditOverHTTPWithHistory(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	p := fs.newForumPeople("ed")
	edit := "/forums/posts/" + p.anaPost + "/edit"

	d := p.ana.get(edit).doc(t)
	if got := d.Find("#edit-body-" + p.anaPost).Text(); got != "Ana's answer" || d.Find(`input[name=revision]`).AttrOr("value", "") != "1" {
		t.Fatalf("edit form: %q", got)
	}
	if d.Find(`textarea[aria-describedby~="edit-body-`+p.anaPost+`-hint"]`).Length() != 1 {
		t.Error("the edit field is not tied to its hint")
	}
	// Someone else's post: neither the link nor the form.
	if n := p.bo.get(p.threadPath).doc(t).Find("#post-" + p.anaPost + " [data-testid=edit-post]").Length(); n != 0 {
		t.Error("Bo sees an Edit link on Ana's post")
	}
	if p.ana.get(p.threadPath).doc(t).Find("#post-"+p.anaPost+" [data-testid=edit-post]").Length() != 1 {
		t.Error("Ana sees no Edit link on her own post")
	}
	wantStatus(t, p.bo.get(edit), http.StatusForbidden)
	wantStatus(t, p.bo.post(edit, url.Values{"body": {"hijack"}}), http.StatusForbidden)

	r := p.ana.post(edit, url.Values{"body": {"  "}, "revision": {"1"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if d := r.doc(t); d.Find("#edit-body-"+p.anaPost+"-error").Length() != 1 || d.Find(`textarea[aria-invalid=true]`).Length() != 1 {
		t.Error("blank edit: no message tied to the field")
	}
	r = p.ana.post(edit, url.Values{"body": {"Ana's **better** answer"}, "revision": {"1"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != p.threadPath+"?page=1#post-"+p.anaPost {
		t.Errorf("Location %q", loc)
	}
	d = p.bo.get(p.threadPath).doc(t)
	post := d.Find("#post-" + p.anaPost)
	if !strings.Contains(post.Find(".post-body").Text(), "better") || post.Find("[data-testid=post-edited]").Length() != 1 {
		t.Errorf("edited post as others see it: %q", post.Text())
	}
	// A tab opened on version 1 is refused with both texts shown.
	r = p.ana.post(edit, url.Values{"body": {"from an old tab"}, "revision": {"1"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if d := r.doc(t); d.Find("#edit-conflict").Length() != 1 || d.Find(".current-version").Length() != 1 ||
		d.Find(`input[name=revision]`).AttrOr("value", "") != "2" || d.Find("#edit-body-"+p.anaPost).Text() != "from an old tab" {
		t.Error("stale edit: no conflict notice, current version or kept text")
	}
	// The history, current first; members read it.
	hist := p.bo.get("/forums/posts/" + p.anaPost + "/revisions").doc(t)
	var versions []string
	hist.Find("[data-testid=revision]").Each(func(_ int, s *goquery.Selection) { versions = append(versions, s.AttrOr("data-revision", "")) })
	if strings.Join(versions, ",") != "2,1" || !strings.Contains(hist.Find("[data-revision=\"1\"]").Text(), "Ana's answer") {
		t.Errorf("history %v", versions)
	}
	// htmx: the form comes in place of the text, and goes back to it.
	r = p.ana.get(edit, "HX-Request", "true")
	if d := r.doc(t); d.Find("form#post-content-"+p.anaPost).Length() != 1 || strings.Contains(r.Body, "<html") {
		t.Errorf("htmx edit form:\n%.500s", r.Body)
	}
	r = p.ana.post(edit, url.Values{"body": {"Ana's third"}, "revision": {"2"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if d := r.doc(t); d.Find("div#post-content-"+p.anaPost+" .post-body").Text() == "" || !strings.Contains(r.Body, "3 versions") {
		t.Errorf("htmx edit answer:\n%.500s", r.Body)
	}
	// A moderator edits anyone's post.
	wantStatus(t, p.owner.post("/forums/posts/"+p.boPost+"/edit", url.Values{"body": {"Bo's answer, tidied"}}), http.StatusSeeOther)
}

func TestEditRefusedInALockedThread(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	p := fs.newForumPeople("el")
	fs.runJobs(p.slug)
	wantStatus(t, p.owner.post(p.threadPath+"/lock", url.Values{"idempotency_key": {"lock-" + p.slug}}), http.StatusSeeOther)
	fs.waitDirectives(p.slug, store.Subject{Type: store.SubjectForumThread, ID: p.threadID})
	r := p.ana.get("/forums/posts/" + p.anaPost + "/edit")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(text(r.doc(t), "[data-testid=edit-refused]"), "locked") || r.doc(t).Find("[data-testid=edit-form]").Length() != 0 {
		t.Error("a locked thread's edit page should say why and offer no form")
	}
	wantStatus(t, p.ana.post("/forums/posts/"+p.anaPost+"/edit", url.Values{"body": {"x"}}), http.StatusUnprocessableEntity)
	if p.ana.get(p.threadPath).doc(t).Find("[data-testid=edit-post]").Length() != 0 {
		t.Error("Edit links in a locked thread")
	}
}

// reactionState is how a viewer's page shows one reaction of a post:
// its count and whether it is pressed ("" when there is no button).
func reactionState(t *testing.T, c *client, path, post, kind string) (count, pressed string) {
	t.Helper()
	d := c.get(path).doc(t)
	sel := d.Find("#post-" + post + " button.reaction[value=" + kind + "]")
	return strings.TrimSpace(sel.Find(".count").Text()), sel.AttrOr("aria-pressed", "")
}

func TestReactionsAreEachViewersOwnOnTheCachedPage(t *testing.T) {
	t.Parallel()
	fs := newLiveForumSite(t) // with a live hub, whole pages are cached and shared
	p := fs.newForumPeople("rx")
	react := "/forums/posts/" + p.anaPost + "/react"

	r := p.bo.post(react, url.Values{"kind": {"like"}, "had": {""}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != p.threadPath+"?page=1#post-"+p.anaPost {
		t.Errorf("Location %q", loc)
	}
	for range 2 { // the second views come from the thread cache
		if c, pr := reactionState(t, p.bo, p.threadPath, p.anaPost, "like"); c != "1" || pr != "true" {
			t.Errorf("Bo's view: count %q pressed %q", c, pr)
		}
		if c, pr := reactionState(t, p.owner, p.threadPath, p.anaPost, "like"); c != "1" || pr != "false" {
			t.Errorf("the owner's view: count %q pressed %q", c, pr)
		}
		// The author sees the count, and no button to press.
		d := p.ana.get(p.threadPath).doc(t)
		if n := d.Find("#post-" + p.anaPost + " button.reaction").Length(); n != 0 {
			t.Errorf("Ana has %d reaction buttons on her own post", n)
		}
		if got := text(d, "#post-"+p.anaPost+" span.reaction[data-kind=like] .count"); got != "1" {
			t.Errorf("Ana's count %q", got)
		}
		if strings.Contains(p.bo.get(p.threadPath).Body, "<!--fpv:") {
			t.Error("a viewer condition reached the page")
		}
	}
	// The same form sent again (it said "not chosen") changes nothing.
	wantStatus(t, p.bo.post(react, url.Values{"kind": {"like"}, "had": {""}}), http.StatusSeeOther)
	if c, _ := reactionState(t, p.owner, p.threadPath, p.anaPost, "like"); c != "1" {
		t.Errorf("resent like counted: %q", c)
	}
	// htmx: the reactions come back in place, as Bo now sees them.
	r = p.bo.post(react, url.Values{"kind": {"like"}, "had": {"", "like"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if d.Find("form#reactions-"+p.anaPost).Length() != 1 || d.Find("button[value=like]").AttrOr("aria-pressed", "") != "false" ||
		strings.Contains(r.Body, "<!--fpv:") {
		t.Errorf("htmx unlike:\n%s", r.Body)
	}
	// Refusals say why.
	r = p.ana.post(react, url.Values{"kind": {"like"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.Body, "own post") {
		t.Error("own post: no reason given")
	}
	wantStatus(t, p.bo.post(react, url.Values{"kind": {"shrug"}}), http.StatusUnprocessableEntity)
	wantStatus(t, p.bo.post("/forums/posts/00000000-0000-0000-0000-000000000000/react", url.Values{"kind": {"like"}}), http.StatusNotFound)
	r = p.ana.post(react, url.Values{"kind": {"like"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if r.doc(t).Find("form#reactions-"+p.anaPost+" [role=alert]").Length() != 1 {
		t.Errorf("htmx refusal:\n%s", r.Body)
	}
}

func TestFlagsHideAPostUntilAModeratorReviewsIt(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	p := fs.newForumPeople("fl")
	cy, _ := fs.member(p.slug, "Cy")
	flag := "/forums/posts/" + p.anaPost + "/flag"

	if d := p.bo.get(flag).doc(t); d.Find("[data-testid=flag-form] input[name=reason]").Length() != len(store.FlagReasons) ||
		d.Find("fieldset legend").Length() != 1 {
		t.Error("flag form: reasons in a fieldset with a legend")
	}
	if d := p.ana.get(flag).doc(t); d.Find("[data-testid=flag-own]").Length() != 1 || d.Find("[data-testid=flag-form]").Length() != 0 {
		t.Error("flagging your own post is offered")
	}
	r := p.bo.post(flag, url.Values{"reason": {""}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if r.doc(t).Find("#reason-error").Length() != 1 {
		t.Error("no reason: no message")
	}
	wantStatus(t, p.bo.post(flag, url.Values{"reason": {"other"}}), http.StatusUnprocessableEntity) // "other" needs a note
	r = p.bo.post(flag, url.Values{"reason": {"spam"}})
	wantStatus(t, r, http.StatusSeeOther)
	r = p.bo.post(flag, url.Values{"reason": {"spam"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.Body, "already") {
		t.Error("a second flag is not refused with a reason")
	}
	wantStatus(t, cy.post(flag, url.Values{"reason": {"off_topic"}}), http.StatusSeeOther)
	wantStatus(t, p.owner.post(flag, url.Values{"reason": {"inappropriate"}}), http.StatusSeeOther)
	// Three flags: members no longer see the post; moderators see why.
	if p.bo.get(p.threadPath).doc(t).Find("#post-"+p.anaPost).Length() != 0 {
		t.Error("a post with three flags is visible to members")
	}
	if !strings.Contains(text(p.owner.get(p.threadPath).doc(t), "#post-"+p.anaPost+" [data-testid=post-placeholder]"), "flagged") {
		t.Error("moderators are not told members' flags hid the post")
	}
	wantStatus(t, p.bo.get(flag), http.StatusNotFound) // nothing to flag any more
	if got := text(p.owner.get("/admin/forums").doc(t), "[data-testid=flags-link]"); !strings.Contains(got, "1 flagged post waits") {
		t.Errorf("admin forums page: %q", got)
	}
	q := p.owner.get("/admin/flags").doc(t)
	row := q.Find("[data-testid=flagged-post][data-post=\"" + p.anaPost + "\"]")
	if row.Find("[data-testid=flag]").Length() != 3 || !strings.Contains(row.Text(), "Spam") {
		t.Fatalf("queue row: %q", row.Text())
	}
	action, _ := row.Find("[data-testid=flag-dismiss]").Parent().Attr("action")
	wantStatus(t, p.owner.post(action, url.Values{"status": {"maybe"}}), http.StatusUnprocessableEntity)
	wantStatus(t, p.bo.post(action, url.Values{"status": {"dismissed"}}), http.StatusForbidden)
	r = p.owner.post(action, url.Values{"status": {"dismissed"}, "return_to": {"/admin/flags"}})
	wantStatus(t, r, http.StatusSeeOther)
	if p.bo.get(p.threadPath).doc(t).Find("#post-"+p.anaPost).Length() != 1 {
		t.Error("dismissed flags did not bring the post back")
	}
	if p.owner.get("/admin/flags").doc(t).Find("[data-testid=no-flags]").Length() != 1 {
		t.Error("the queue still lists the post")
	}
	if d := p.owner.get("/admin/flags?status=reviewed").doc(t); !strings.Contains(d.Find("[data-testid=flagged-post]").Text(), "dismissed") {
		t.Error("reviewed list")
	}
	wantStatus(t, p.owner.get("/admin/flags?status=whatever"), http.StatusUnprocessableEntity)
}
