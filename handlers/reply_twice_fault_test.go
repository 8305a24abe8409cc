package handlers_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/lib/pq"
)

// The reply form carries an idempotency key: the same form sent twice —
// one after the other (a resend after the server died before answering),
// or both at once (a double click) — makes one post, one count and one
// signal, and both sends are answered with that post. Each render of the
// page, cached or not, gets a key of its own; an htmx reply gets the next
// key out of band, so the next reply from the same page is a new post.
func TestReplyFormSentTwiceMakesOnePost(t *testing.T) {
	t.Parallel()
	fs := newForumSite(t)
	o := fs.newForumOrg("twice")
	thread := "/forums/t/" + o.threadID
	first, second := replyKey(t, o.owner, thread), replyKey(t, o.owner, thread)
	if first == second {
		t.Fatalf("two renders of the thread page share the reply key %s", first)
	}

	form := url.Values{"body": {"Sent twice, posted once"}, "idempotency_key": {first}}
	a, b := o.owner.post(thread+"/replies", form), o.owner.post(thread+"/replies", form)
	wantStatus(t, a, http.StatusSeeOther)
	wantStatus(t, b, http.StatusSeeOther)
	if a.Header.Get("Location") != b.Header.Get("Location") {
		t.Fatalf("the resent form went to %s, the first to %s", b.Header.Get("Location"), a.Header.Get("Location"))
	}

	// A double click: both at once.
	at := url.Values{"body": {"Double-clicked"}, "idempotency_key": {second}}
	var wg sync.WaitGroup
	locs := make([]string, 2)
	for i := range locs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := o.owner.http.PostForm(fs.srv.URL+thread+"/replies", at)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusSeeOther {
					locs[i] = resp.Header.Get("Location")
				}
			}
		}()
	}
	wg.Wait()
	if locs[0] == "" || locs[0] != locs[1] {
		t.Fatalf("double click answered %q and %q, want the same post twice", locs[0], locs[1])
	}

	// htmx: the answer brings the form's next key, and it posts anew.
	r := o.owner.post(thread+"/replies", url.Values{"body": {"With htmx"}, "idempotency_key": {replyKey(t, o.owner, thread)}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	next, _ := r.doc(t).Find(`input#reply-key[hx-swap-oob][name=idempotency_key]`).Attr("value")
	if len(next) < 32 {
		t.Fatalf("htmx reply without the next key:\n%s", r.Body)
	}
	wantStatus(t, o.owner.post(thread+"/replies", url.Values{"body": {"With htmx"}, "idempotency_key": {next}}, "HX-Request", "true"), http.StatusOK)

	// Another member's form never carries this key; if one does, it is
	// refused (409), never answered with the owner's post.
	mslug := "m" + o.slug
	member := fs.client()
	member.register(mslug)
	fs.addMember(member, o.slug, mslug+"@example.com", "member")
	wantStatus(t, member.post(thread+"/replies", url.Values{"body": {"Not mine"}, "idempotency_key": {first}}), http.StatusConflict)

	schema := pq.QuoteIdentifier("org_" + o.slug)
	for body, want := range map[string]int{"Sent twice, posted once": 1, "Double-clicked": 1, "With htmx": 2, "Not mine": 0} {
		var posts, signals int
		fs.store.DB.Get(&posts, `SELECT count(*) FROM `+schema+`.forum_posts WHERE content = $1`, body)
		fs.store.DB.Get(&signals, `SELECT count(*) FROM `+schema+`.signals s JOIN `+schema+`.forum_posts p
			ON p.id::text = s.subject_id WHERE s.name = 'forum.post.created' AND p.content = $1`, body)
		if posts != want || signals != want {
			t.Errorf("%q: %d posts and %d signals, want %d of each", body, posts, signals, want)
		}
	}
	var count, published int
	fs.store.DB.Get(&count, `SELECT post_count FROM `+schema+`.forum_threads WHERE id = $1`, o.threadID)
	fs.store.DB.Get(&published, `SELECT count(*) FROM `+schema+`.forum_posts WHERE thread_id = $1`, o.threadID)
	if count != published {
		t.Errorf("thread counts %d posts, has %d", count, published)
	}
}

// replyKey renders the thread page and returns its reply form's key.
func replyKey(t *testing.T, c *client, thread string) string {
	t.Helper()
	r := c.get(thread)
	wantStatus(t, r, http.StatusOK)
	k, ok := r.doc(t).Find(`#reply-form input[name=idempotency_key]`).Attr("value")
	if !ok || len(k) < 32 {
		t.Fatalf("reply form without an idempotency key: %q", k)
	}
	return k
}
