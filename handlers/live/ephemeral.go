package live

import (
	"strconv"
	"sync"

	"github.com/r3labs/sse/v2"

	"fleetprompt/store"
)

// Ephemeral events are pushed to a topic's open streams without being
// signals: a chat answer streamed token by token would otherwise be a
// database row, a NOTIFY and a query per token. They are not stored and
// never replayed, so a page that connects (or reconnects) while they flow
// would miss some. An Ephemeral therefore remembers which streams it has
// reached: a stream that was not reached yet gets the catch-up (e.g. the
// whole answer so far, replacing what the page shows) as soon as it is
// live, and never an increment before it.
//
// Ordering: Send, and the catch-up, run under the caller's lock (the one
// guarding what the catch-up reads), so every increment is either inside
// a catch-up or sent after it.
//
// Each event's id is the stream's own cursor (the last signal seq it was
// sent), so the browser's Last-Event-ID, and the page's resume point,
// stay on the signal sequence.
type Ephemeral struct {
	hub     *Hub
	key     string
	lock    sync.Locker
	name    string
	catchUp func() []byte

	mu      sync.Mutex
	reached map[string]struct{} // stream ids that had an event from here
	closed  bool
}

// Ephemeral starts a flow of ephemeral events to topic's streams in
// tenant t. lock guards the state catchUp reads; hold it around every
// Send. catchUp returns the event data (sent as an event named name) that
// brings a page up to date by itself. Close the flow when it ends.
func (h *Hub) Ephemeral(t store.Tenant, topic Topic, lock sync.Locker, name string, catchUp func() []byte) *Ephemeral {
	e := &Ephemeral{hub: h, key: streamKey(t.Schema(), topic), lock: lock, name: name, catchUp: catchUp, reached: map[string]struct{}{}}
	h.ephemerals.Store(e.key, e)
	return e
}

// Close ends the flow: nothing more is sent, and streams that join later
// get nothing from it. Close it before the state it streams is settled
// elsewhere (a finished message), so no late catch-up shows it unsettled.
func (e *Ephemeral) Close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.hub.ephemerals.CompareAndDelete(e.key, e)
}

// Send pushes an event named name to every live stream of the topic:
// data to the streams this flow reached before, the catch-up to the
// others. The caller holds the flow's lock. A stream too slow to take it
// is dropped, as for signals; it resumes from the database and gets a
// catch-up when it is back. Send never blocks on a client.
func (e *Ephemeral) Send(name string, data []byte) { e.send(name, data, false) }

// SendAll is Send for data that is itself a catch-up (the first event of
// a flow, before any increment): every live stream gets data.
func (e *Ephemeral) SendAll(name string, data []byte) { e.send(name, data, true) }

func (e *Ephemeral) send(name string, data []byte, all bool) {
	h := e.hub
	var slow []*subscriber
	var caught []byte
	h.mu.RLock()
	subs := h.topics[e.key]
	e.mu.Lock()
	if e.closed {
		subs = nil
	}
	for s := range subs {
		evName, payload := name, data
		if _, seen := e.reached[s.id]; !seen && !all {
			if caught == nil {
				caught = e.catchUp()
			}
			evName, payload = e.name, caught
		}
		switch s.offerEphemeral(evName, payload) {
		case offered:
			e.reached[s.id] = struct{}{}
		case offerFull:
			slow = append(slow, s)
		}
	}
	e.mu.Unlock()
	h.mu.RUnlock()
	for _, s := range slow {
		s.cut("queue full")
	}
}

// greet sends a stream that has just gone live the catch-up of the flow
// under way on its topic, if any.
func (h *Hub) greet(s *subscriber) {
	v, ok := h.ephemerals.Load(s.key)
	if !ok {
		return
	}
	e := v.(*Ephemeral)
	e.lock.Lock()
	defer e.lock.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, seen := e.reached[s.id]; seen || e.closed {
		return
	}
	switch s.offerEphemeral(e.name, e.catchUp()) {
	case offered:
		e.reached[s.id] = struct{}{}
	case offerFull:
		go s.cut("queue full") // cut takes locks the caller holds
	}
}

type offerResult int

const (
	offered    offerResult = iota
	offerLater             // not live yet (replaying) or ending: its greeting covers it
	offerFull
)

// offerEphemeral queues a non-signal event for a live subscriber with
// its cursor as id, never blocking.
func (s *subscriber) offerEphemeral(name string, data []byte) offerResult {
	if len(data) == 0 {
		return offered // an empty data field would not dispatch an event
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || !s.live {
		return offerLater
	}
	ev := &sse.Event{ID: []byte(strconv.FormatInt(s.cursor, 10)), Event: []byte(name), Data: data}
	ok, wake := s.enqueueLocked(appendFrame(nil, ev))
	if wake {
		// The waker takes no subscriber lock: waking under s.mu is safe.
		defer s.hub.waker.wake(s)
	}
	if !ok {
		return offerFull
	}
	return offered
}
