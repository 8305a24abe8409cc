package live

import (
	"runtime"
	"sync"
)

// waker wakes writers, keeping at most budget of them runnable at once.
//
// Waking all 10,000 writers of a fan-out at once puts 10,000 goroutines
// in the run queues, and every goroutine the network wakes meanwhile —
// the fan-in's database replies, the LISTEN reader, the requests posting
// replies — queues behind all of them. On a machine short of CPU the next
// event then cannot even be loaded before the last writer has written
// the previous one: writers never find two events to send together, and
// the backlog grows without bound. With the budget, a writer hands its
// place to the next one waiting as soon as it runs, so everything else
// waits behind at most budget writes (well under a millisecond), the
// fan-in keeps up, and a writer that waits longer finds several frames
// and sends them in one write.
type waker struct {
	budget int

	mu       sync.Mutex
	runnable int           // woken writers that have not started running
	waiting  []*subscriber // to wake when a place frees, oldest first from head
	head     int
}

func newWaker() *waker { return &waker{budget: 32 * runtime.GOMAXPROCS(0)} }

// wake schedules s's writer: now if the budget allows, else in turn.
func (w *waker) wake(s *subscriber) {
	if !s.scheduled.CompareAndSwap(false, true) {
		return // already woken or waiting: it will take what is queued
	}
	w.mu.Lock()
	w.admitLocked(s)
	w.mu.Unlock()
}

// wakeAll is wake for the subscribers a fan-out queued frames for, under
// one lock.
func (w *waker) wakeAll(subs []*subscriber) {
	w.mu.Lock()
	for _, s := range subs {
		if s.scheduled.CompareAndSwap(false, true) {
			w.admitLocked(s)
		}
	}
	w.mu.Unlock()
}

func (w *waker) admitLocked(s *subscriber) {
	if s.exited {
		return // no writer to wake, and no place to take
	}
	if w.runnable >= w.budget {
		if w.head > 0 && len(w.waiting) == cap(w.waiting) {
			n := copy(w.waiting, w.waiting[w.head:])
			clear(w.waiting[n:])
			w.waiting, w.head = w.waiting[:n], 0
		}
		w.waiting = append(w.waiting, s)
		return
	}
	w.runnable++
	s.signalLocked()
}

// started is called by a writer as soon as it runs after a wake-up: its
// place goes to the next writer waiting.
func (w *waker) started() {
	w.mu.Lock()
	w.passLocked()
	w.mu.Unlock()
}

func (w *waker) passLocked() {
	for w.head < len(w.waiting) {
		s := w.waiting[w.head]
		w.waiting[w.head] = nil
		w.head++
		if s.exited {
			continue // its writer is gone: the place goes on
		}
		s.signalLocked()
		return
	}
	w.waiting, w.head = w.waiting[:0], 0
	w.runnable--
}

// exit is called by a writer as it returns, or for a stream that ends
// before its writer runs: a wake-up handed to it and never taken passes
// on, and none is handed to it from now on.
func (w *waker) exit(s *subscriber) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s.exited = true
	select {
	case <-s.wake:
		w.passLocked()
	default:
	}
}

// signalLocked hands s's writer its wake-up (w.mu held, so it cannot
// cross the writer's exit). The channel holds one: scheduled guarantees
// there is never a second.
func (s *subscriber) signalLocked() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// backlog is how many writers are woken or waiting, not yet running.
func (w *waker) backlog() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runnable + len(w.waiting) - w.head
}
