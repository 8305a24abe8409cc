package handlers

import (
	"sync"
	"time"
)

// throttle counts failed sign-ins per key (email, client address) in a
// sliding window. It lives in memory: each instance throttles on its own,
// which bounds guessing to max × instances per window — acceptable for a
// sign-in form, and it needs no table written on every failure.
type throttle struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
	now    func() time.Time
}

func newThrottle(max int, window time.Duration) *throttle {
	return &throttle{max: max, window: window, fails: map[string][]time.Time{}, now: time.Now}
}

// blocked reports whether any key has used up its failures; retryAfter
// says when the oldest counted failure leaves the window.
func (t *throttle) blocked(keys ...string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		fs := t.prune(k, now)
		if len(fs) >= t.max {
			return true, fs[0].Add(t.window).Sub(now)
		}
	}
	return false, 0
}

func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		t.fails[k] = append(t.prune(k, now), now)
	}
	// Keep memory bounded under a spray of distinct keys.
	if len(t.fails) > 100_000 {
		for k := range t.fails {
			if len(t.prune(k, now)) == 0 {
				delete(t.fails, k)
			}
		}
	}
}

func (t *throttle) reset(key string) {
	t.mu.Lock()
	delete(t.fails, key)
	t.mu.Unlock()
}

func (t *throttle) prune(k string, now time.Time) []time.Time {
	fs := t.fails[k]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= t.window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.fails, k)
	} else {
		t.fails[k] = fs
	}
	return fs
}
