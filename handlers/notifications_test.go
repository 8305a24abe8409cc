package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/notify"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// inboxSite is a live site whose notifications subscriber runs for one
// organization: an owner who starts threads, and members.
type inboxSite struct {
	*site
	slug  string
	owner *client
	tn    store.Tenant
}

func newInboxSite(t *testing.T) *inboxSite {
	t.Helper()
	st := storetest.Store(t)
	s := startSite(t, siteConfig{store: st, live: true,
		subscribers: []signal.Subscriber{notify.Subscriber(st)}})
	is := &inboxSite{site: s, slug: storetest.Name("inbox"), owner: s.client()}
	is.owner.register(is.slug)
	is.tn = tenantOf(t, st, is.slug)
	s.runJobs(is.slug)
	return is
}

// member adds a plain member with a handle and returns their client and
// handle.
func (is *inboxSite) member() (*client, string) {
	is.t.Helper()
	c := is.client()
	own := storetest.Name("mem")
	c.register(own)
	var handle string
	if err := is.store.DB.GetContext(ctx, &handle, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		SELECT o.id, u.id, 'member', 'active' FROM organizations o, users u WHERE o.slug = $1 AND lower(u.email) = $2
		RETURNING (SELECT handle FROM users WHERE lower(email) = $2)`, is.slug, own+"@example.com"); err != nil {
		is.t.Fatal(err)
	}
	wantStatus(is.t, c.post("/org/select", url.Values{"slug": {is.slug}}), http.StatusSeeOther)
	return c, handle
}

// badge is the header's unread count on a page ("" when none shows).
func badge(t *testing.T, r *response) string {
	t.Helper()
	d := r.doc(t)
	if d.Find("[data-testid=inbox-link]").Length() != 1 {
		t.Fatalf("%s: no inbox link in the header", r.Request.URL.Path)
	}
	return strings.TrimSpace(d.Find("[data-testid=inbox-count]").Text())
}

// waitBadge polls path until the header's count is want (the subscriber
// works after the reply's commit).
func waitBadge(t *testing.T, c *client, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := badge(t, c.get("/dashboard"))
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("badge %q, want %q", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMore polls the inbox until its first row counts the later replies
// as want.
func waitMore(t *testing.T, c *client, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.get("/notifications").doc(t).Find("[data-testid=notification]").First().Find("[data-testid=notification-more]").Text()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("first inbox row counts %q, want %q", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A reply tells the thread's starter; the inbox lists it in words, unread
// first; mark one and mark all read are 303 forms; another's
// notification is not found; the empty inbox says what to do next.
func TestNotificationsInbox(t *testing.T) {
	is := newInboxSite(t)
	thread, _ := is.owner.forumThread(t, is.tn)
	ada, adaHandle := is.member()

	empty := ada.get("/notifications")
	wantStatus(t, empty, http.StatusOK)
	if empty.doc(t).Find("[data-testid=notifications-empty] a[href='/forums']").Length() != 1 || badge(t, empty) != "" {
		t.Fatalf("empty inbox:\n%.3000s", empty.Body)
	}

	if got := badge(t, is.owner.get("/forums/t/"+thread)); got != "" { // the thread page's layout is cached per person
		t.Fatalf("owner's badge on the thread page before any reply: %q", got)
	}
	var ownerHandle string
	if err := is.store.DB.GetContext(ctx, &ownerHandle, `SELECT handle FROM users WHERE lower(email) = $1`, is.slug+"@example.com"); err != nil {
		t.Fatal(err)
	}
	// A reply, a reply that mentions the owner (a notification of its
	// own), and a reply the first one counts: two unread, the reply's
	// moved up by the third.
	wantStatus(t, ada.post("/forums/t/"+thread+"/replies", url.Values{"body": {"Tray two, says @" + adaHandle + " herself"}}), http.StatusSeeOther)
	wantStatus(t, ada.post("/forums/t/"+thread+"/replies", url.Values{"body": {"And again, @" + ownerHandle}}), http.StatusSeeOther)
	waitBadge(t, is.owner, "2")
	wantStatus(t, ada.post("/forums/t/"+thread+"/replies", url.Values{"body": {"Once more"}}), http.StatusSeeOther)
	waitMore(t, is.owner, "and 1 more reply")
	if got := badge(t, is.owner.get("/forums/t/"+thread)); got != "2" {
		t.Errorf("owner's badge on the (cached) thread page: %q, want 2", got)
	}

	r := is.owner.get("/notifications")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	rows := d.Find("[data-testid=notification]")
	if rows.Length() != 2 || d.Find("[data-unread=true]").Length() != 2 {
		t.Fatalf("inbox rows %d:\n%.4000s", rows.Length(), r.Body)
	}
	if got := rows.First().Find("[data-testid=notification-more]").Text(); got != "and 1 more reply" {
		t.Errorf("the first row's count %q", got)
	}
	text := strings.TrimSpace(rows.First().Find("[data-testid=notification-text]").Text())
	if !strings.HasPrefix(text, "Owner mem") || !strings.Contains(text, "replied to “Hello”") || strings.Contains(text, "forum.post") {
		t.Errorf("sentence %q", text)
	}
	if got := badge(t, ada.get("/dashboard")); got != "" {
		t.Errorf("Ada, who replied (and mentioned herself), has a badge %q", got)
	}

	// Another person's notification is not found, to read or to mark.
	id := rows.First().AttrOr("id", "")[len("notification-"):]
	wantStatus(t, ada.post("/notifications/"+id+"/read", url.Values{}), http.StatusNotFound)
	wantStatus(t, is.owner.post("/notifications/not-a-uuid/read", url.Values{}), http.StatusNotFound)

	m := is.owner.post("/notifications/"+id+"/read", url.Values{"page": {"1"}})
	wantStatus(t, m, http.StatusSeeOther)
	if loc := m.Header.Get("Location"); loc != "/notifications" {
		t.Errorf("mark read went to %q", loc)
	}
	after := is.owner.get("/notifications").doc(t)
	if after.Find("[data-unread=true]").Length() != 1 || after.Find("[data-testid=notification]").Last().AttrOr("id", "") != "notification-"+id {
		t.Errorf("after marking one read: unread %d, last %q", after.Find("[data-unread=true]").Length(),
			after.Find("[data-testid=notification]").Last().AttrOr("id", ""))
	}
	wantStatus(t, is.owner.post("/notifications/read-all", url.Values{}), http.StatusSeeOther)
	if got := badge(t, is.owner.get("/notifications")); got != "" {
		t.Errorf("badge after mark all read: %q", got)
	}
	if got := badge(t, is.owner.get("/forums/t/"+thread)); got != "" { // nothing changed in the thread itself
		t.Errorf("badge on the (cached) thread page after mark all read: %q", got)
	}
}

// With htmx, marking one read answers with the row, read, and the badge
// out of band; the badge fragment is the count as it is now.
func TestNotificationReadHTMX(t *testing.T) {
	is := newInboxSite(t)
	thread, _ := is.owner.forumThread(t, is.tn)
	ada, _ := is.member()
	wantStatus(t, ada.post("/forums/t/"+thread+"/replies", url.Values{"body": {"Seen it"}}), http.StatusSeeOther)
	waitBadge(t, is.owner, "1")
	b := is.owner.get("/notifications/badge")
	wantStatus(t, b, http.StatusOK)
	if !strings.Contains(b.Body, `data-testid="inbox-count">1<`) {
		t.Errorf("badge fragment:\n%s", b.Body)
	}
	id := is.owner.get("/notifications").doc(t).Find("[data-testid=notification]").AttrOr("id", "")[len("notification-"):]
	r := is.owner.post("/notifications/"+id+"/read", url.Values{}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if d.Find("#notification-"+id).AttrOr("data-unread", "") != "" || d.Find(`#inbox[hx-swap-oob]`).Length() != 1 ||
		d.Find("[data-testid=inbox-count]").Length() != 0 {
		t.Errorf("htmx answer:\n%s", r.Body)
	}
}

// The inbox pages: unread first across pages, ?page past the end is the
// last page.
func TestNotificationsPaginate(t *testing.T) {
	is := newInboxSite(t)
	owner := userIDOf(t, is.site, is.slug+"@example.com")
	is.owner.forumThread(t, is.tn)
	seq, err := is.store.LatestSignalSeq(ctx, is.tn)
	if err != nil {
		t.Fatal(err)
	}
	var add []store.NewNotification
	for i := 0; i < store.NotificationsPerPage+3; i++ {
		add = append(add, store.NewNotification{UserID: owner, Reason: store.NotifyFlag, SignalSeq: seq, DedupeKey: "p" + strconv.Itoa(i)})
	}
	if err := is.store.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := is.store.AddNotificationsTx(ctx, tx, is.tn, add)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	first := is.owner.get("/notifications").doc(t)
	if n := first.Find("[data-testid=notification]").Length(); n != store.NotificationsPerPage || first.Find("a[rel=next]").Length() != 1 {
		t.Fatalf("page 1: %d rows", n)
	}
	last := is.owner.get("/notifications?page=99").doc(t)
	if n := last.Find("[data-testid=notification]").Length(); n != 3 || last.Find("a[rel=prev]").Length() != 1 {
		t.Fatalf("page past the end: %d rows", n)
	}
}

func userIDOf(t *testing.T, s *site, email string) int64 {
	t.Helper()
	var id int64
	if err := s.store.DB.GetContext(ctx, &id, `SELECT id FROM users WHERE lower(email) = lower($1)`, email); err != nil {
		t.Fatal(err)
	}
	return id
}

// A reply moves the thread starter's badge live on their own "me"
// stream, and nobody else's: the replier's "me" stream gets nothing, and
// "me:<someone>" is refused (the stream is always the session's user's).
func TestReplyMovesStartersBadgeLive(t *testing.T) {
	is := newInboxSite(t)
	thread, _ := is.owner.forumThread(t, is.tn)
	ada, _ := is.member()
	owner := userIDOf(t, is.site, is.slug+"@example.com")
	wantStatus(t, ada.get("/events?topic=me:"+strconv.FormatInt(owner, 10)), http.StatusNotFound)

	mine := is.owner.stream(t, "/events?topic=me")
	adas := ada.stream(t, "/events?topic=me")
	feed := ada.stream(t, "/events?topic=tenant")
	// The owner's thread page has one stream, and the badge rides on it.
	page := is.owner.stream(t, "/events?topic=thread:"+thread)
	wantStatus(t, ada.post("/forums/t/"+thread+"/replies", url.Values{"body": {"Tray two"}}), http.StatusSeeOther)
	ev := mine.next(t, "notification.created")
	if !strings.Contains(ev.Data, `data-testid="inbox-count">1<`) {
		t.Fatalf("badge event:\n%s", ev.Data)
	}
	if ev := page.next(t, "notification.created"); ev.ID != "" || !strings.Contains(ev.Data, `data-testid="inbox-count">1<`) {
		t.Errorf("badge on the thread page's stream (want no id: it moves no cursor): id %q\n%s", ev.ID, ev.Data)
	}
	if ev := feed.next(t, "forum.post.created"); !strings.Contains(ev.Data, "replied to") || strings.Contains(ev.Data, "forum_post ") {
		t.Errorf("feed row is not a sentence:\n%s", ev.Data)
	}
	if ev := feed.next(t, "notification.created"); strings.Contains(ev.Data, "<li") {
		t.Errorf("the owner's notification shows on the tenant feed:\n%s", ev.Data)
	}
	select {
	case ev := <-adas.events:
		if ev.Name == "notification.created" {
			t.Errorf("the replier's own stream got %s: %s", ev.Name, ev.Data)
		}
	case <-time.After(300 * time.Millisecond):
	}
	wantStatus(t, is.owner.post("/notifications/read-all", url.Values{}), http.StatusSeeOther)
	if ev := mine.next(t, "notification.read"); strings.Contains(ev.Data, "inbox-count") {
		t.Errorf("badge after read-all:\n%s", ev.Data)
	}
}
