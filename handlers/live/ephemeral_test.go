package live_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"fleetprompt/handlers/live"
)

func TestChatTopicParses(t *testing.T) {
	id := "0B4F6E3A-1C2D-4E5F-8A9B-0C1D2E3F4A5B"
	topic, err := live.ParseTopic("chat:" + id)
	if err != nil || topic.Kind != live.KindChat || topic.Arg != strings.ToLower(id) {
		t.Fatalf("chat topic %+v %v", topic, err)
	}
	for _, bad := range []string{"chat:", "chat", "chat:nope", "chat:" + id + "x", "chat:../x"} {
		if _, err := live.ParseTopic(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// Ephemeral events reach only their topic's live streams, with the
// stream's cursor as id; a stream that joins while the flow runs gets
// the catch-up first and increments after it; a closed flow sends
// nothing and greets no one.
func TestEphemeralFlow(t *testing.T) {
	e := newEnv(t, envOpts{})
	conv := "9a3c1a52-7d6e-4c41-9a51-3f3f2b7c1d10"
	other := "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
	seq := emit(t, e.st, e.tenant, "test.seed", nil)
	e.waitProcessed(seq)
	cursor := strconv.FormatInt(seq, 10)
	first := e.open(t, "topic=chat:"+conv+"&last_event_id="+cursor)
	bystander := e.open(t, "topic=chat:"+other+"&last_event_id="+cursor)
	tenantWide := e.open(t, "topic=tenant&last_event_id="+cursor)
	e.waitSubscribers(3)

	var mu sync.Mutex
	text := ""
	flow := e.hub.Ephemeral(e.tenant, live.Topic{Kind: live.KindChat, Arg: conv}, &mu, "snap", func() []byte { return []byte("all:" + text) })
	send := func(s string) {
		mu.Lock()
		text += s
		flow.Send("delta", []byte(s))
		mu.Unlock()
	}
	mu.Lock()
	flow.SendAll("start", []byte("all:"))
	mu.Unlock()
	pages := map[*client]string{}
	catchUp := func(c *client, want string) {
		t.Helper()
		pages[c] = c.showEphemeral(t, cursor, pages[c], want)
	}
	send("a")
	catchUp(first, "a")
	late := e.open(t, "topic=chat:"+conv+"&last_event_id="+cursor)
	catchUp(late, "a")
	send("b")
	send("c")
	catchUp(first, "abc")
	catchUp(late, "abc")
	flow.Close()
	send("d")
	// The topic's signals still flow, and a signal is the next thing the
	// chat streams see: nothing from the closed flow came before it.
	seq2 := emit(t, e.st, e.tenant, "chat.message.completed", map[string]any{"conversation_id": conv})
	for _, c := range []*client{first, late} {
		if ev := c.next(t); ev.Name != "chat.message.completed" || ev.ID != strconv.FormatInt(seq2, 10) {
			t.Fatalf("after close: %+v", ev)
		}
	}
	closedLate := e.open(t, "topic=chat:"+conv+"&last_event_id="+strconv.FormatInt(seq2, 10))
	e.waitSubscribers(5)
	seq3 := emit(t, e.st, e.tenant, "test.after", map[string]any{"conversation_id": conv})
	e.waitProcessed(seq3)
	// The tenant stream saw neither the ephemeral events nor the chat
	// signal (private to its conversation), only the other signal; the
	// other conversation's stream saw nothing at all.
	if ev := tenantWide.next(t); ev.Name != "test.after" {
		t.Fatalf("tenant stream: %+v, want test.after", ev)
	}
	bystander.noEventsYet(t)
	select {
	case ev := <-closedLate.events:
		if ev.Name == "snap" {
			t.Fatalf("a closed flow greeted a new stream: %+v", ev)
		}
	default:
	}
}

// showEphemeral reads a chat stream as its page would (catch-ups replace
// what it shows, deltas append) until it shows want, from shown. Whether
// the stream went live before or after each send, what it shows is
// always a prefix of the text; every event carries the stream's cursor.
func (c *client) showEphemeral(t *testing.T, cursor, shown, want string) string {
	t.Helper()
	for shown != want {
		ev := c.next(t)
		if ev.ID != cursor {
			t.Fatalf("ephemeral event id %q, want the stream's cursor %s", ev.ID, cursor)
		}
		switch {
		case ev.Name == "delta":
			shown += ev.Data
		case (ev.Name == "snap" || ev.Name == "start") && strings.HasPrefix(ev.Data, "all:"):
			shown = strings.TrimPrefix(ev.Data, "all:")
		default:
			t.Fatalf("unexpected %+v", ev)
		}
		if !strings.HasPrefix(want, shown) {
			t.Fatalf("page shows %q, not a prefix of %q", shown, want)
		}
	}
	return shown
}

// noEventsYet fails if the stream has received anything but comments.
func (c *client) noEventsYet(t *testing.T) {
	t.Helper()
	for {
		select {
		case ev := <-c.events:
			if ev.Comment == "" {
				t.Fatalf("unexpected event %+v", ev)
			}
		default:
			return
		}
	}
}
