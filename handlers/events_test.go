package handlers_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// newLiveSite is newSite with a running live hub. Sites built over the
// same store are two app processes on one database.
func newLiveSite(t *testing.T, st *store.Store) (*site, *live.Hub) {
	t.Helper()
	s := startSite(t, siteConfig{store: st, live: true, writeTimeout: 2 * time.Second})
	return s, s.hub
}

// liveEvent is one SSE event as a browser sees it.
type liveEvent struct{ ID, Name, Data string }

type eventStream struct {
	events chan liveEvent
	ended  chan struct{}
	cancel context.CancelFunc
}

// stream opens path as an event stream with the client's cookies.
func (c *client) stream(t *testing.T, path string, headers ...string) *eventStream {
	t.Helper()
	cctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, c.s.srv.URL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d %s\n%.500s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &eventStream{events: make(chan liveEvent, 256), ended: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.ended)
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		var ev liveEvent
		var data []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch {
			case line == "":
				if data != nil {
					ev.Data = strings.Join(data, "\n")
					s.events <- ev
				}
				ev, data = liveEvent{}, nil
			case field == "id":
				ev.ID = value
			case field == "event":
				ev.Name = value
			case field == "data":
				data = append(data, value)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-s.ended })
	return s
}

func (s *eventStream) next(t *testing.T, name string) liveEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if ev.Name == name {
				return ev
			}
		case <-s.ended:
			t.Fatalf("stream ended waiting for %s", name)
		case <-timeout:
			t.Fatalf("no %s event within 10s", name)
		}
	}
}

func (s *eventStream) waitEnd(t *testing.T) {
	t.Helper()
	select {
	case <-s.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("stream still open")
	}
}

// forumThread makes a category and a thread as the client (an owner) and
// returns the thread id and the category slug.
func (c *client) forumThread(t *testing.T, tenant store.Tenant) (threadID, catSlug string) {
	t.Helper()
	catSlug = storetest.Name("cat")
	r := c.post("/forums/categories", url.Values{"name": {"Cat " + catSlug}, "slug": {catSlug}, "description": {""}})
	wantStatus(t, r, http.StatusSeeOther)
	cat, err := c.s.store.ForumCategoryBySlug(ctx, tenant, catSlug)
	if err != nil {
		t.Fatal(err)
	}
	r = c.post("/forums/threads", url.Values{"category_id": {cat.ID}, "title": {"Hello"}, "body": {"First post"}})
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	if !strings.HasPrefix(loc, "/forums/t/") {
		t.Fatalf("thread created at %q", loc)
	}
	return strings.TrimPrefix(strings.Split(loc, "#")[0], "/forums/t/"), catSlug
}

func tenantOf(t *testing.T, st *store.Store, slug string) store.Tenant {
	t.Helper()
	tn, err := st.TenantBySchema(ctx, "org_"+slug)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// Every topic is checked against the caller's current organization:
// another organization's thread or category is not found, a malformed
// topic or cursor is refused, and visitors are sent to sign in.
func TestEventsTopicIsolation(t *testing.T) {
	s, _ := newLiveSite(t, nil)
	a, b := s.client(), s.client()
	slugA, slugB := storetest.Name("eva"), storetest.Name("evb")
	a.register(slugA)
	b.register(slugB)
	threadB, catB := b.forumThread(t, tenantOf(t, s.store, slugB))

	for _, q := range []string{"topic=thread:" + threadB, "topic=category:" + catB,
		"topic=thread:not-a-uuid", "topic=nope", "topic=", "topic=thread:00000000-0000-4000-8000-000000000000"} {
		r := a.get("/events?" + q)
		wantStatus(t, r, http.StatusNotFound)
	}
	wantStatus(t, a.get("/events?topic=tenant&last_event_id=abc"), http.StatusBadRequest)
	visitor := s.client().get("/events?topic=tenant")
	wantStatus(t, visitor, http.StatusSeeOther)
	if !strings.HasPrefix(visitor.Header.Get("Location"), "/login") {
		t.Fatalf("visitor sent to %q", visitor.Header.Get("Location"))
	}

	// B's own topics stream; A's tenant stream never carries B's signals.
	streamA := a.stream(t, "/events?topic=tenant")
	streamB := b.stream(t, "/events?topic=thread:"+threadB)
	r := b.post("/forums/t/"+threadB+"/replies", url.Values{"body": {"Only for B"}})
	wantStatus(t, r, http.StatusSeeOther)
	ev := streamB.next(t, "forum.post.created")
	if !strings.Contains(ev.Data, "Only for B") || !strings.Contains(ev.Data, `id="post-`) {
		t.Fatalf("post fragment:\n%s", ev.Data)
	}
	catA := storetest.Name("cata")
	wantStatus(t, a.post("/forums/categories", url.Values{"name": {"Mine"}, "slug": {catA}}), http.StatusSeeOther)
	if ev := streamA.next(t, "forum.category.created"); !strings.Contains(ev.Data, "forum.category.created") {
		t.Fatalf("A's feed row:\n%s", ev.Data)
	}
	select {
	case ev := <-streamA.events:
		t.Fatalf("A's stream carried another event: %+v", ev)
	default:
	}
}

// Signing out ends the streams of that session.
func TestSignOutEndsStreams(t *testing.T) {
	s, _ := newLiveSite(t, nil)
	c := s.client()
	c.register(storetest.Name("evso"))
	st := c.stream(t, "/events?topic=tenant")
	wantStatus(t, c.post("/logout", nil), http.StatusSeeOther)
	st.waitEnd(t)
}

// Two app processes on one database behave as one site: a reply posted
// through one appears on a stream served by the other, as the thread
// page's post fragment, with its audit row.
func TestReplyReachesStreamOfOtherProcess(t *testing.T) {
	s1, _ := newLiveSite(t, nil)
	s2, _ := newLiveSite(t, s1.store)
	slug := storetest.Name("evtwo")
	writer := s1.client()
	writer.register(slug)
	thread, cat := writer.forumThread(t, tenantOf(t, s1.store, slug))

	reader := s2.client()
	wantStatus(t, reader.login(slug+"@example.com", "password123"), http.StatusSeeOther)
	page := reader.get("/forums/t/" + thread)
	wantStatus(t, page, http.StatusOK)
	connect, _ := page.doc(t).Find("[sse-connect]").Attr("sse-connect")
	if !strings.Contains(connect, "topic=thread:"+thread) || !strings.Contains(connect, "last_event_id=") {
		t.Fatalf("thread page sse-connect = %q", connect)
	}
	threadStream := reader.stream(t, connect)
	catStream := reader.stream(t, "/events?topic=category:"+cat)
	feed := reader.stream(t, "/events?topic=tenant")

	wantStatus(t, writer.post("/forums/t/"+thread+"/replies", url.Values{"body": {"Seen **elsewhere**"}}), http.StatusSeeOther)
	ev := threadStream.next(t, "forum.post.created")
	if ev.ID == "" || !strings.Contains(ev.Data, "<strong>elsewhere</strong>") || !strings.Contains(ev.Data, `hx-swap-oob="beforeend:#audit"`) {
		t.Fatalf("reply fragment:\n%s", ev.Data)
	}
	if ev := feed.next(t, "forum.post.created"); !strings.Contains(ev.Data, `data-testid="activity-row"`) {
		t.Fatalf("feed row:\n%s", ev.Data)
	}

	cat2, err := s1.store.ForumCategoryBySlug(ctx, tenantOf(t, s1.store, slug), cat)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, writer.post("/forums/threads", url.Values{"category_id": {cat2.ID}, "title": {"Second"}, "body": {"x"}}), http.StatusSeeOther)
	if ev := catStream.next(t, "forum.thread.created"); !strings.Contains(ev.Data, "Second") || !strings.Contains(ev.Data, `data-testid="thread-row"`) {
		t.Fatalf("thread row:\n%s", ev.Data)
	}
}

// The dashboard lists the latest signals and follows the tenant topic
// from the newest one shown.
func TestDashboardActivityFeed(t *testing.T) {
	s, _ := newLiveSite(t, nil)
	c := s.client()
	slug := storetest.Name("evdash")
	c.register(slug)
	c.forumThread(t, tenantOf(t, s.store, slug))
	r := c.get("/dashboard")
	wantStatus(t, r, http.StatusOK)
	doc := r.doc(t)
	rows := doc.Find(`[data-testid="activity-feed"] [data-testid="activity-row"]`)
	// The category and the thread; the thread's opening post is said by
	// "started" and left out.
	if rows.Length() != 2 || strings.Contains(rows.Text(), "first post") {
		t.Fatalf("feed has %d rows: %q", rows.Length(), rows.Text())
	}
	// The stream resumes after the newest signal read, shown or not.
	newest, _ := rows.First().Attr("data-seq")
	connect, _ := doc.Find(`[sse-connect]`).Attr("sse-connect")
	cursor, ok := strings.CutPrefix(connect, "/events?topic=tenant&last_event_id=")
	if n, _ := strconv.ParseInt(newest, 10, 64); !ok || mustInt(t, cursor) <= n {
		t.Fatalf("sse-connect = %q, newest row seq %s", connect, newest)
	}
	swap, _ := doc.Find(`#activity-feed`).Attr("sse-swap")
	if !strings.Contains(swap, "forum.post.created") {
		t.Fatalf("sse-swap = %q", swap)
	}
}

// noChatBefore makes a forum signal through c (an owner or admin) and
// reads the stream up to its event: any chat event on the way fails the
// test. The stream is in seq order, so chat signals committed before the
// category would have come first.
func (s *eventStream) noChatBefore(t *testing.T, c *client) {
	t.Helper()
	slug := storetest.Name("sentinel")
	wantStatus(t, c.post("/forums/categories", url.Values{"name": {"Sentinel " + slug}, "slug": {slug}}), http.StatusSeeOther)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.events:
			// A chat answer's execution signals are about its chat
			// message: private too (these tests run no other agent).
			if strings.HasPrefix(ev.Name, "chat.") || strings.HasPrefix(ev.Name, "agent.execution.") || strings.Contains(ev.Data, "chat_") {
				t.Fatalf("a private chat event reached the stream: %+v", ev)
			}
			if ev.Name == "forum.category.created" {
				return
			}
		case <-s.ended:
			t.Fatal("stream ended before the sentinel")
		case <-timeout:
			t.Fatal("no sentinel event within 10s")
		}
	}
}

// A member's chat is private (SPEC §17): its signals reach the
// conversation's own stream only; neither another member's tenant stream
// nor the owner's own, nor the dashboard's activity feed, shows them,
// live or at load or on resume.
func TestPrivateChatStaysOutOfSharedFeeds(t *testing.T) {
	t.Parallel()
	cs := newChatSite(t, nil, nil)
	o := cs.newChatOrg("evpriv")
	colleague := cs.member(o, "admin")
	cursor := tenantOf(t, cs.store, o.slug)
	before, err := cs.store.LatestSignalSeq(ctx, cursor)
	if err != nil {
		t.Fatal(err)
	}
	theirs := colleague.stream(t, "/events?topic=tenant")
	mine := o.owner.stream(t, "/events?topic=tenant")

	conv := cs.startChat(o.owner, o.agentID)
	chat := cs.follow(o.owner, conv)
	wantStatus(t, say(o.owner, conv, "/help"), http.StatusOK)
	chat.next(t, "chat.message.created")
	chat.completed(t, store.ChatComplete)

	theirs.noChatBefore(t, o.owner)
	mine.noChatBefore(t, o.owner)
	// A stream resuming from before the chat replays none of it either.
	resumed := colleague.stream(t, "/events?topic=tenant", "Last-Event-ID", strconv.FormatInt(before, 10))
	resumed.noChatBefore(t, o.owner)

	sigs, _ := cs.store.LatestSignals(ctx, o.tenant, 50)
	chats, answers, private := 0, 0, map[string]bool{}
	for _, s := range sigs {
		if live.Private(s) {
			private[strconv.FormatInt(s.Seq, 10)] = true
			chats++
			if strings.HasPrefix(s.Name, "agent.execution.") {
				answers++
			}
		}
	}
	if chats < 3 || answers == 0 {
		t.Fatalf("the chat made %d private signals, %d of its answer's execution: nothing to hide", chats, answers)
	}
	for _, c := range []*client{colleague, o.owner} {
		doc := c.get("/dashboard").doc(t)
		doc.Find(`[data-testid="activity-row"]`).Each(func(_ int, row *goquery.Selection) {
			if seq, _ := row.Attr("data-seq"); private[seq] || strings.Contains(row.Text(), "chat") {
				t.Errorf("dashboard feed shows a private row: %s %q", row.AttrOr("data-name", ""), strings.Join(strings.Fields(row.Text()), " "))
			}
		})
	}
}

// One session may hold 16 streams (SPEC §17); the 17th is a plain 429
// with Retry-After, another session is not affected, and closing a
// stream makes room.
func TestEventsSessionCap(t *testing.T) {
	s, hub := newLiveSite(t, nil)
	c, other := s.client(), s.client()
	slug := storetest.Name("evcap")
	c.register(slug)
	wantStatus(t, other.login(slug+"@example.com", "password123"), http.StatusSeeOther)
	var streams []*eventStream
	for i := 0; i < 16; i++ {
		streams = append(streams, c.stream(t, "/events?topic=tenant"))
	}
	asked := time.Now()
	r := c.get("/events?topic=tenant")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("17th stream: %d Retry-After %q %s: %s", r.StatusCode, r.Header.Get("Retry-After"), r.Header.Get("Content-Type"), r.Body)
	}
	// The refusal is held (a flood asks again no sooner).
	if waited := time.Since(asked); waited < 2*time.Second {
		t.Errorf("17th stream refused after %v, want it held 2s (streamRefusalHold)", waited)
	}
	other.stream(t, "/events?topic=tenant")
	streams[0].cancel()
	<-streams[0].ended
	deadline := time.Now().Add(10 * time.Second)
	for hub.Subscribers() != 16 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	c.stream(t, "/events?topic=tenant")
	if st := hub.Stats(); st.Refused != 1 {
		t.Fatalf("hub stats %+v, want one refusal", st)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
