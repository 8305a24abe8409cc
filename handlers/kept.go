package handlers

import (
	"sync"
	"time"
)

// kept is what a process keeps of its own reads for a while: at most ttl
// old, at most max entries (full, it starts again, which is cheaper than
// tracking age). A drop is remembered, so a read that began before it is
// not stored over it. The unread counts (inbox_cache.go) and the decoded
// session cookies (session_cookie.go) are kept in one; the session cache
// (session_cache.go) has its own, for it drops by user as well as by key.
type kept[K comparable, V any] struct {
	ttl time.Duration
	max int
	mu  sync.RWMutex
	m   map[K]keptEntry[V]
}

type keptEntry[V any] struct {
	v     V
	at    time.Time // when the read that stored it began, or of the drop
	known bool      // false: a drop
}

func newKept[K comparable, V any](ttl time.Duration, max int) *kept[K, V] {
	return &kept[K, V]{ttl: ttl, max: max, m: map[K]keptEntry[V]{}}
}

func (k *kept[K, V]) get(key K) (V, bool) {
	k.mu.RLock()
	e, ok := k.m[key]
	k.mu.RUnlock()
	if !ok || !e.known || time.Since(e.at) > k.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v, read by a read that began at began, unless the entry holds
// something newer (a drop or a later read).
func (k *kept[K, V]) put(key K, v V, began time.Time) {
	k.set(key, keptEntry[V]{v: v, at: began, known: true})
}

func (k *kept[K, V]) drop(key K) { k.set(key, keptEntry[V]{at: time.Now()}) }

func (k *kept[K, V]) set(key K, e keptEntry[V]) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.m[key]; ok && old.at.After(e.at) {
		return
	}
	if len(k.m) >= k.max {
		clear(k.m)
	}
	k.m[key] = e
}

func (k *kept[K, V]) dropAll() {
	k.mu.Lock()
	clear(k.m)
	k.mu.Unlock()
}
