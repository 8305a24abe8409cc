package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/jobs/executor"
	"fleetprompt/store"
)

// SPEC §16's threads over HTTP: solved, pinned, the posting limit, one
// thread per form, lists with the last poster, a lock's live effect on
// open reply forms.

func TestSolveByTheStarterShowsTheAnswerOnTop(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("sv")
	starter, _ := fs.member(o.slug, "Starter")
	other, _ := fs.member(o.slug, "Other")
	r := starter.post("/forums/threads", url.Values{"category_id": {o.catID}, "title": {"Help me"}, "body": {"How do I?"}})
	wantStatus(t, r, http.StatusSeeOther)
	path := r.Header.Get("Location")
	thread := strings.TrimPrefix(path, "/forums/t/")
	answer := replyOf(t, o.owner.post(path+"/replies", url.Values{"body": {"Like **this**: turn it off and on again."}}))

	d := starter.get(path).doc(t)
	if d.Find("#post-"+answer+" [data-testid=solve]").Length() != 1 {
		t.Fatal("the starter has no Mark as solution button")
	}
	if other.get(path).doc(t).Find("[data-testid=solve]").Length() != 0 {
		t.Error("a member who did not start the thread may mark a solution")
	}
	wantStatus(t, other.post(path+"/solve", url.Values{"post_id": {answer}}), http.StatusForbidden)
	first := d.Find("[data-testid=post]").First().AttrOr("id", "")
	r = starter.post(path+"/solve", url.Values{"post_id": {strings.TrimPrefix(first, "post-")}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.Body, "opening post") {
		t.Error("solving with the opening post: no reason")
	}
	r = starter.post(path+"/solve", url.Values{"post_id": {answer}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != path+"?page=1#post-"+answer {
		t.Errorf("Location %q", loc)
	}
	d = other.get(path).doc(t)
	if !strings.Contains(text(d, "[data-testid=thread-solution]"), "turn it off and on again") ||
		d.Find("[data-testid=solution-link]").AttrOr("href", "") != path+"?page=1#post-"+answer ||
		d.Find("#post-"+answer+" [data-testid=solution-badge]").Length() != 1 {
		t.Errorf("solution on top: %q", text(d, "[data-testid=thread-solution]"))
	}
	row := other.get("/forums").doc(t).Find("#thread-" + thread)
	if row.Find("[data-testid=solved]").Length() != 1 {
		t.Error("the list does not mark the thread solved")
	}
	// The starter takes the mark back.
	wantStatus(t, starter.post(path+"/unsolve", url.Values{"post_id": {answer}}), http.StatusSeeOther)
	if strings.TrimSpace(other.get(path).doc(t).Find("[data-testid=thread-solution]").Text()) != "" {
		t.Error("unsolved thread still shows an answer")
	}
	wantStatus(t, other.post("/forums/t/00000000-0000-0000-0000-000000000000/solve", url.Values{"post_id": {answer}}), http.StatusNotFound)
}

func TestPinnedThreadsComeFirstInLists(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("pn")
	fs.runJobs(o.slug)
	path := "/forums/t/" + o.threadID
	wantStatus(t, o.owner.post("/forums/threads", url.Values{"category_id": {o.catID}, "title": {"Newer"}, "body": {"newer"}}), http.StatusSeeOther)
	d := o.owner.get(path).doc(t)
	r := o.owner.post(path+"/pin", url.Values{"idempotency_key": {modKey(t, d, "/pin")}})
	wantStatus(t, r, http.StatusSeeOther)
	fs.waitDirectives(o.slug, store.Subject{Type: store.SubjectForumThread, ID: o.threadID})
	for _, list := range []string{"/forums", "/forums/c/" + o.catSlug} {
		first := o.owner.get(list).doc(t).Find("[data-testid=thread-row]").First()
		if first.AttrOr("id", "") != "thread-"+o.threadID || first.Find("[data-testid=pinned]").Length() != 1 {
			t.Errorf("%s: the pinned thread is not first", list)
		}
	}
	if o.owner.get(path).doc(t).Find("[data-testid=thread-status]").AttrOr("data-pinned", "") != "true" {
		t.Error("thread page: not pinned")
	}
	d = o.owner.get(path).doc(t)
	wantStatus(t, o.owner.post(path+"/unpin", url.Values{"idempotency_key": {modKey(t, d, "/unpin")}}), http.StatusSeeOther)
	fs.waitDirectives(o.slug, store.Subject{Type: store.SubjectForumThread, ID: o.threadID})
	if first := o.owner.get("/forums").doc(t).Find("[data-testid=thread-row]").First(); first.AttrOr("id", "") == "thread-"+o.threadID {
		t.Error("unpinned thread still first")
	}
}

func TestPostingLimitAnswers429AndKeepsTheText(t *testing.T) {
	t.Parallel()
	fs := &forumSite{startSite(t, siteConfig{directives: executor.Forum, postLimit: store.PostLimit{Posts: 3, Per: time.Minute}})}
	o := fs.newForumOrg("rl") // a thread and a reply: two posts of the owner
	path := "/forums/t/" + o.threadID
	key := func() string {
		return o.owner.get(path).doc(t).Find("#reply-key").AttrOr("value", "")
	}
	k3 := key()
	third := o.owner.post(path+"/replies", url.Values{"body": {"third"}, "idempotency_key": {k3}})
	wantStatus(t, third, http.StatusSeeOther)

	r := o.owner.post(path+"/replies", url.Values{"body": {"one too many"}, "idempotency_key": {key()}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	d := r.doc(t)
	if !strings.Contains(text(d, "#reply-form .form-error"), "3 posts a minute") || d.Find("#reply-form textarea").Text() != "one too many" {
		t.Errorf("429 page: %q, text %q", text(d, "#reply-form .form-error"), d.Find("#reply-form textarea").Text())
	}
	// htmx: the form comes back in place, with a real key.
	r = o.owner.post(path+"/replies", url.Values{"body": {"still too many"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("HX-Retarget") != "#reply-form" || strings.Contains(r.Body, "f0f0f0f0f0f0f0f0") ||
		r.doc(t).Find("form#reply-form[data-swap-429]").Length() != 1 {
		t.Errorf("htmx 429:\n%.600s", r.Body)
	}
	// The accepted form sent again is its post, not a refusal.
	again := o.owner.post(path+"/replies", url.Values{"body": {"third"}, "idempotency_key": {k3}})
	wantStatus(t, again, http.StatusSeeOther)
	if again.Header.Get("Location") != third.Header.Get("Location") {
		t.Errorf("resent reply: %q, want %q", again.Header.Get("Location"), third.Header.Get("Location"))
	}
	// A new thread counts too.
	r = o.owner.post("/forums/threads", url.Values{"category_id": {o.catID}, "title": {"Another"}, "body": {"body kept"}, "idempotency_key": {"t-" + o.slug}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if d := r.doc(t); d.Find("#thread-form .form-error").Length() != 1 || d.Find("#title").AttrOr("value", "") != "Another" {
		t.Error("new thread past the limit: no message or lost input")
	}
	// Someone else is not slowed down by the owner.
	m, _ := fs.member(o.slug, "Calm")
	wantStatus(t, m.post(path+"/replies", url.Values{"body": {"my first"}}), http.StatusSeeOther)
}

func TestNewThreadFormSentTwiceMakesOneThread(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("nt")
	d := o.owner.get("/forums/new").doc(t)
	key := d.Find("#thread-form input[name=idempotency_key]").AttrOr("value", "")
	if len(key) < 16 {
		t.Fatalf("no idempotency key in the new-thread form: %q", key)
	}
	form := url.Values{"category_id": {o.catID}, "title": {"Only once"}, "body": {"Sent twice"}, "idempotency_key": {key}}
	a, b := o.owner.post("/forums/threads", form), o.owner.post("/forums/threads", form)
	wantStatus(t, a, http.StatusSeeOther)
	wantStatus(t, b, http.StatusSeeOther)
	if a.Header.Get("Location") != b.Header.Get("Location") {
		t.Errorf("two threads: %s and %s", a.Header.Get("Location"), b.Header.Get("Location"))
	}
	n := 0
	o.owner.get("/forums").doc(t).Find("[data-testid=thread-row] .thread-title").Each(func(_ int, s *goquery.Selection) {
		if s.Text() == "Only once" {
			n++
		}
	})
	if n != 1 {
		t.Errorf("%d threads titled Only once", n)
	}
	m, _ := fs.member(o.slug, "Copycat")
	wantStatus(t, m.post("/forums/threads", form), http.StatusConflict)
}

func TestThreadListsShowRepliesLastActivityAndLastPoster(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("ls")
	m, mslug := fs.member(o.slug, "Lastword")
	wantStatus(t, m.post("/forums/t/"+o.threadID+"/replies", url.Values{"body": {"me last"}}), http.StatusSeeOther)
	for _, list := range []string{"/forums", "/forums/c/" + o.catSlug} {
		row := o.owner.get(list).doc(t).Find("#thread-" + o.threadID)
		if sel(row, "[data-testid=reply-count]") != "2" || sel(row, "[data-testid=last-poster]") != "Lastword "+mslug ||
			row.Find("[data-testid=last-activity]").AttrOr("datetime", "") == "" || row.Find(".avatar").Text() != "LL" {
			t.Errorf("%s row: %q", list, strings.Join(strings.Fields(row.Text()), " "))
		}
	}
}

func TestLockedThreadDisablesOpenReplyFormsLive(t *testing.T) {
	t.Parallel()
	fs := newLiveForumSite(t)
	o := fs.newForumOrg("lv")
	fs.runJobs(o.slug)
	m, _ := fs.member(o.slug, "Reader")
	path := "/forums/t/" + o.threadID
	page := m.get(path).doc(t)
	seq := page.Find("[data-seq]").First().AttrOr("data-seq", "")
	if page.Find("#reply-actions button[disabled]").Length() != 0 {
		t.Fatal("open thread with a disabled reply button")
	}
	events := m.stream(t, "/events?topic=thread:"+o.threadID+"&last_event_id="+seq)

	key := modKey(t, o.owner.get(path).doc(t), "/lock")
	wantStatus(t, o.owner.post(path+"/lock", url.Values{"idempotency_key": {key}}), http.StatusSeeOther)
	ev := events.next(t, "forum.thread.locked")
	d, err := goquery.NewDocumentFromReader(strings.NewReader(ev.Data))
	if err != nil {
		t.Fatal(err)
	}
	actions := d.Find(`#reply-actions[hx-swap-oob="outerHTML"]`)
	if actions.Find("button[disabled]").Length() != 1 || actions.Find("[data-testid=reply-locked-live]").Length() != 1 {
		t.Errorf("the lock's event does not disable the reply form:\n%s", ev.Data)
	}
	if d.Find("#thread-status").AttrOr("data-status", "") != "locked" {
		t.Error("the lock's event does not carry the new status")
	}
	// The server refuses the reply all the same.
	wantStatus(t, m.post(path+"/replies", url.Values{"body": {"sneaking in"}}), http.StatusUnprocessableEntity)

	key = modKey(t, o.owner.get(path).doc(t), "/unlock")
	wantStatus(t, o.owner.post(path+"/unlock", url.Values{"idempotency_key": {key}}), http.StatusSeeOther)
	ev = events.next(t, "forum.thread.unlocked")
	d, _ = goquery.NewDocumentFromReader(strings.NewReader(ev.Data))
	if d.Find(`#reply-actions[hx-swap-oob] button:not([disabled])`).Length() != 1 || d.Find(`#reply-closed[hx-swap-oob]`).Length() != 1 {
		t.Errorf("the unlock's event does not enable the reply form again:\n%s", ev.Data)
	}
}

func TestLiveReactionsReplaceOnlyTheirCount(t *testing.T) {
	t.Parallel()
	fs := newLiveForumSite(t)
	p := fs.newForumPeople("lr")
	seq := p.ana.get(p.threadPath).doc(t).Find("[data-seq]").First().AttrOr("data-seq", "")
	events := p.ana.stream(t, "/events?topic=thread:"+p.threadID+"&last_event_id="+seq)
	wantStatus(t, p.bo.post("/forums/posts/"+p.anaPost+"/react", url.Values{"kind": {"heart"}}), http.StatusSeeOther)
	ev := events.next(t, "forum.post.reacted")
	d, _ := goquery.NewDocumentFromReader(strings.NewReader(ev.Data))
	count := d.Find(`#rc-` + p.anaPost + `-heart[hx-swap-oob="outerHTML"]`)
	if count.Length() != 1 || strings.TrimSpace(count.Text()) != "1" || d.Find("button").Length() != 0 || d.Find("[data-testid=audit-row]").Length() != 0 {
		t.Errorf("reaction event:\n%s", ev.Data)
	}
	wantStatus(t, p.bo.post("/forums/posts/"+p.anaPost+"/edit", url.Values{"body": {"x"}}), http.StatusForbidden)
	wantStatus(t, p.ana.post("/forums/posts/"+p.anaPost+"/edit", url.Values{"body": {"Ana, edited live"}}), http.StatusSeeOther)
	ev = events.next(t, "forum.post.edited")
	d, _ = goquery.NewDocumentFromReader(strings.NewReader(ev.Data))
	if c := d.Find(`#post-content-` + p.anaPost + `[hx-swap-oob="outerHTML"]`); !strings.Contains(c.Text(), "edited live") || strings.Contains(ev.Data, "<!--fpv:") {
		t.Errorf("edit event:\n%s", ev.Data)
	}
}

func sel(s *goquery.Selection, css string) string { return strings.TrimSpace(s.Find(css).Text()) }
