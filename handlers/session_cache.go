package handlers

import (
	"sync"
	"sync/atomic"
	"time"

	"fleetprompt/store"
)

// Every signed-in request needs its session and memberships; reading them
// from PostgreSQL was a round trip per request, more than the rest of a
// cached page. So each process keeps what it read for a short while.
//
// A cached session must never outlive a sign-out or a membership change:
//   - sign-out, an organization switch and a member update drop the
//     entries here at once, and announce it on the live hub's control
//     channel, so every other process drops them when the NOTIFY arrives;
//   - a load that raced an invalidation is not stored (epoch);
//   - entries live at most sessionCacheTTL, the safety net for a missed
//     notification (and the hub's listener reconnecting clears everything).
//
// The cache exists only with a live hub (Config.Live): without one there
// is no way to hear of other processes' changes.

const (
	sessionCacheTTL = 2 * time.Second
	sessionCacheMax = 16384
)

type sessionEntry struct {
	sess store.Session
	at   time.Time
}

type sessionCache struct {
	epoch atomic.Uint64 // bumped by every invalidation
	mu    sync.RWMutex
	m     map[string]sessionEntry // sessionHash(token) → session
}

func newSessionCache() *sessionCache { return &sessionCache{m: map[string]sessionEntry{}} }

func (sc *sessionCache) get(key string) (store.Session, bool) {
	sc.mu.RLock()
	e, ok := sc.m[key]
	sc.mu.RUnlock()
	if !ok || time.Since(e.at) > sessionCacheTTL {
		return store.Session{}, false
	}
	return e.sess, true
}

// put stores sess, loaded after epoch was read, unless something was
// invalidated since: that load may predate the change.
func (sc *sessionCache) put(key string, sess store.Session, epoch uint64, at time.Time) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.epoch.Load() != epoch {
		return
	}
	if len(sc.m) >= sessionCacheMax {
		clear(sc.m)
	}
	sc.m[key] = sessionEntry{sess: sess, at: at}
}
