package live

import "testing"

// The waker keeps at most its budget of writers woken and not yet
// running, hands each place on in order when a writer starts, skips
// writers that have gone, and loses no place when a writer exits with a
// wake-up it never took.
func TestWakerBudget(t *testing.T) {
	w := &waker{budget: 2}
	subs := make([]*subscriber, 5)
	for i := range subs {
		subs[i] = &subscriber{wake: make(chan struct{}, 1)}
	}
	woken := func() (n []int) {
		for i, s := range subs {
			select {
			case <-s.wake:
				n = append(n, i)
			default:
			}
		}
		return n
	}
	w.wakeAll(subs)
	w.wake(subs[0]) // already scheduled: nothing more
	if got := woken(); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("woken %v, want [0 1]", got)
	}
	// 0 starts running: 2 is next. 1 starts: 3 is next.
	w.started()
	w.started()
	if got := woken(); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("woken %v, want [2 3]", got)
	}
	// 2 and 3 start: 4 is woken, and exits before it runs, holding its
	// wake-up: the place is not lost.
	w.started()
	w.started()
	w.exit(subs[4])
	if got := woken(); len(got) != 0 {
		t.Fatalf("woken %v after an exit", got)
	}
	if w.runnable != 0 || w.head != 0 || len(w.waiting) != 0 {
		t.Fatalf("waker left with %d runnable, waiting %v from %d", w.runnable, w.waiting, w.head)
	}
	// A gone writer is skipped when its turn comes.
	w.budget = 1
	for _, s := range subs {
		s.scheduled.Store(false)
	}
	w.wakeAll(subs[:3])
	subs[1].exited = true
	<-subs[0].wake
	w.started()
	if got := woken(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("woken %v, want [2] (1 is gone)", got)
	}
	// Waking a writer that has exited takes no place.
	w.started() // 2 runs
	w.exit(subs[3])
	subs[3].scheduled.Store(false)
	w.wake(subs[4])
	w.wakeAll(subs[3:])
	if w.runnable != 0 {
		t.Fatalf("waking exited writers left %d runnable", w.runnable)
	}
}
