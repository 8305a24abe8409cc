package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
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

// sessionHash is the live hub's name for a session (never the token
// itself, which must not travel in notifications).
func sessionHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

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

func (sc *sessionCache) dropKey(key string) {
	sc.mu.Lock()
	sc.epoch.Add(1)
	delete(sc.m, key)
	sc.mu.Unlock()
}

func (sc *sessionCache) dropUser(userID int64) {
	sc.mu.Lock()
	sc.epoch.Add(1)
	for k, e := range sc.m {
		if e.sess.UserID == userID {
			delete(sc.m, k)
		}
	}
	sc.mu.Unlock()
}

func (sc *sessionCache) dropAll() {
	sc.mu.Lock()
	sc.epoch.Add(1)
	clear(sc.m)
	sc.mu.Unlock()
}

// control applies a message from the hub's control channel: the hub's own
// "session:<hash>" (sign-out) and "member:<org>:<user>" (disabled), and
// this file's "session-changed:<hash>" and "user-changed:<user>".
func (sc *sessionCache) control(msg string) {
	kind, arg, _ := strings.Cut(msg, ":")
	switch kind {
	case "session", "session-changed":
		sc.dropKey(arg)
	case "member":
		_, u, _ := strings.Cut(arg, ":")
		if id, err := strconv.ParseInt(u, 10, 64); err == nil {
			sc.dropUser(id)
		}
	case "user-changed":
		if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
			sc.dropUser(id)
		}
	}
}

// loadSessionCached is store.LoadSession through the cache.
func (h *Handler) loadSessionCached(ctx context.Context, token string) (store.Session, error) {
	if h.sessions == nil {
		return h.store.LoadSession(ctx, token)
	}
	key := sessionHash(token)
	if s, ok := h.sessions.get(key); ok {
		return s, nil
	}
	epoch, at := h.sessions.epoch.Load(), time.Now()
	s, err := h.store.LoadSession(ctx, token)
	if err != nil {
		return s, err
	}
	h.sessions.put(key, s, epoch, at)
	return s, nil
}

// sessionChanged drops the cached session of token here and in every
// other process (an organization switch).
func (h *Handler) sessionChanged(ctx context.Context, token string) {
	if h.sessions == nil {
		return
	}
	key := sessionHash(token)
	h.sessions.dropKey(key)
	if err := h.live.Announce(ctx, "session-changed:"+key); err != nil {
		h.log.Warn("announce session change", "err", err)
	}
}

// userChanged drops every cached session of the user here and in every
// other process (a membership's role or status changed).
func (h *Handler) userChanged(ctx context.Context, userID int64) {
	if h.sessions == nil {
		return
	}
	h.sessions.dropUser(userID)
	if err := h.live.Announce(ctx, "user-changed:"+strconv.FormatInt(userID, 10)); err != nil {
		h.log.Warn("announce member change", "err", err)
	}
}
