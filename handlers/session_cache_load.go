package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"fleetprompt/store"
)

// sessionHash is the live hub's name for a session (never the token
// itself, which must not travel in notifications).
func sessionHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
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
