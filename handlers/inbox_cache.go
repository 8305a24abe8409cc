package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"fleetprompt/store"
)

// Every page's header shows the person's unread count, and that count was
// the one query left on a cached page: a round trip and about 90 µs of
// PostgreSQL per view, more than the rest of a thread page served from
// memory. So each process keeps the counts it read.
//
// A kept count must never outlive a change:
//   - every change to someone's notifications (a worker adding them, a
//     mark-read in any process) sends store.InboxChanged on the control
//     channel in its transaction, and every process drops the count when
//     the NOTIFY arrives;
//   - a drop is remembered, so a read that began before it is not stored;
//   - entries live at most inboxCacheTTL, the safety net, and the hub's
//     listener reconnecting clears everything;
//   - what shows the count as the answer to something (the badge fragment
//     a reopened stream fetches, the inbox, a mark-read) reads it fresh.
//
// The cache exists only with a live hub (Config.Live): without one there
// is no way to hear of other processes' changes.

const (
	inboxCacheTTL = time.Minute
	inboxCacheMax = 16384
)

type inboxKey struct {
	schema string
	user   int64
}

// inboxCache is each person's unread count, per organization.
type inboxCache struct{ *kept[inboxKey, int] }

func newInboxCache() *inboxCache {
	return &inboxCache{newKept[inboxKey, int](inboxCacheTTL, inboxCacheMax)}
}

// control applies a control message: store.InboxChanged's
// "inbox:<schema>:<user>".
func (ic *inboxCache) control(msg string) {
	rest, ok := strings.CutPrefix(msg, "inbox:")
	if !ok {
		return
	}
	schema, u, _ := strings.Cut(rest, ":")
	if id, err := strconv.ParseInt(u, 10, 64); err == nil {
		ic.drop(inboxKey{schema, id})
	}
}

// unread is the header's count: from the cache when it has it.
func (h *Handler) unread(ctx context.Context, t store.Tenant, userID int64) (int, error) {
	if h.inboxes == nil {
		return h.store.UnreadNotifications(ctx, t, userID)
	}
	if n, ok := h.inboxes.get(inboxKey{t.Schema(), userID}); ok {
		return n, nil
	}
	return h.unreadFresh(ctx, t, userID)
}

// unreadFresh reads the count from the database, and keeps it.
func (h *Handler) unreadFresh(ctx context.Context, t store.Tenant, userID int64) (int, error) {
	began := time.Now()
	n, err := h.store.UnreadNotifications(ctx, t, userID)
	if err == nil && h.inboxes != nil {
		h.inboxes.put(inboxKey{t.Schema(), userID}, n, began)
	}
	return n, err
}

// forgetUnread drops userID's count: they just read something.
func (h *Handler) forgetUnread(t store.Tenant, userID int64) {
	if h.inboxes == nil {
		return
	}
	h.inboxes.drop(inboxKey{t.Schema(), userID})
}
