package live

import (
	"strconv"
	"sync"
	"time"

	"github.com/r3labs/sse/v2"

	"fleetprompt/store"
)

// Ephemeral events are pushed to a topic's open streams without being
// signals: a chat answer streamed token by token would otherwise be a
// database row, a NOTIFY and a query per token. They are not stored and
// never replayed, so a page that connects (or reconnects) while they flow
// could miss some. An Ephemeral therefore remembers which streams it has
// reached: a stream's first event from it is the catch-up (e.g. the whole
// answer so far, replacing what the page shows) instead of the increment.
// The caller serialises Send with the state the catch-up reads, so every
// increment is either inside a catch-up or after it.
//
// Each event's id is the stream's own cursor (the last signal seq it was
// sent), so the browser's Last-Event-ID, and the page's resume point,
// stay on the signal sequence.
type Ephemeral struct {
	hub *Hub
	key string

	mu      sync.Mutex
	reached map[string]struct{} // stream ids that had an event from here
}

// Ephemeral returns a sender of ephemeral events to topic's streams in
// tenant t. Keep it for as long as the flow it carries (one chat answer).
func (h *Hub) Ephemeral(t store.Tenant, topic Topic) *Ephemeral {
	return &Ephemeral{hub: h, key: streamKey(t.Schema(), topic), reached: map[string]struct{}{}}
}

// Send pushes an event named name to every stream of the topic that is
// live (done replaying): data to the streams this Ephemeral reached
// before, catchUp() to the others (catchUp is called at most once per
// Send, only when needed; nil means data for everyone). A stream too slow
// to take it is dropped, as for signals; it resumes from the database and
// gets a catch-up with its next event. Send never blocks on a client.
func (e *Ephemeral) Send(name string, data []byte, catchUp func() []byte) {
	h := e.hub
	var slow []*subscriber
	var caught []byte
	h.mu.RLock()
	subs := h.topics[e.key]
	e.mu.Lock()
	for s := range subs {
		_, seen := e.reached[s.id]
		payload := data
		if !seen && catchUp != nil {
			if caught == nil {
				caught = catchUp()
			}
			payload = caught
		}
		switch s.offerEphemeral(name, payload) {
		case offered:
			e.reached[s.id] = struct{}{}
		case offerFull:
			slow = append(slow, s)
		}
	}
	e.mu.Unlock()
	h.mu.RUnlock()
	for _, s := range slow {
		s.kick("too slow")
	}
}

type offerResult int

const (
	offered    offerResult = iota
	offerLater             // not live yet (replaying) or ending: a later catch-up covers it
	offerFull
)

// offerEphemeral hands a non-signal event to a live subscriber with its
// cursor as id, never blocking.
func (s *subscriber) offerEphemeral(name string, data []byte) offerResult {
	if len(data) == 0 {
		return offered // r3labs would end the stream on empty data
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.kicked || !s.live {
		return offerLater
	}
	ev := &sse.Event{ID: []byte(strconv.FormatInt(s.lastSent, 10)), Event: []byte(name), Data: data}
	if !s.hub.sse.TryPublish(s.id, ev) {
		return offerFull
	}
	s.lastActive.Store(time.Now().UnixNano())
	return offered
}
