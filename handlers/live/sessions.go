package live

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fleetprompt/store"
)

// EndSession ends every stream of the session with this token, in every
// process: sign-out calls it after deleting the session.
func (h *Hub) EndSession(ctx context.Context, token string) error {
	key := sessionKey(token)
	h.endWhere("signed out", func(s *subscriber) bool { return s.session == key })
	return h.announce(ctx, "session:"+key)
}

// EndMember ends the streams a user has open on an organization, in every
// process: disabling a member (or removing them) calls it.
func (h *Hub) EndMember(ctx context.Context, orgID, userID int64) error {
	h.endWhere("membership ended", func(s *subscriber) bool { return s.tenant.OrgID == orgID && s.userID == userID })
	return h.announce(ctx, fmt.Sprintf("member:%d:%d", orgID, userID))
}

func (h *Hub) announce(ctx context.Context, msg string) error {
	if _, err := h.store.DB.ExecContext(ctx, `SELECT pg_notify($1, $2)`, h.cfg.ControlChannel, msg); err != nil {
		return fmt.Errorf("announce %s: %w", msg, err)
	}
	return nil
}

// control handles a message from another process (or this one: the local
// streams already ended and this one finds nothing more).
func (h *Hub) control(msg string) {
	kind, arg, _ := strings.Cut(msg, ":")
	switch kind {
	case "session":
		h.endWhere("signed out", func(s *subscriber) bool { return s.session == arg })
	case "member":
		o, u, _ := strings.Cut(arg, ":")
		orgID, err1 := strconv.ParseInt(o, 10, 64)
		userID, err2 := strconv.ParseInt(u, 10, 64)
		if err1 == nil && err2 == nil {
			h.endWhere("membership ended", func(s *subscriber) bool { return s.tenant.OrgID == orgID && s.userID == userID })
		}
	}
}

// revalidate re-checks, now and then, that each stream's session is alive
// and its membership active: the safety net for a sign-out or a disabled
// member whose notification this process missed.
func (h *Hub) revalidate(ctx context.Context) {
	every(ctx, h.cfg.Revalidate, func() {
		if err := h.revalidateOnce(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("live: revalidate streams", "err", err)
		}
	})
}

func (h *Hub) revalidateOnce(ctx context.Context) error {
	seen := map[store.StreamGrant]bool{}
	h.each(func(s *subscriber) {
		seen[store.StreamGrant{SessionHash: s.session, OrgID: s.tenant.OrgID}] = true
	})
	if len(seen) == 0 {
		return nil
	}
	grants := make([]store.StreamGrant, 0, len(seen))
	for g := range seen {
		grants = append(grants, g)
	}
	valid, err := h.store.ValidStreamGrants(ctx, grants)
	if err != nil {
		return err
	}
	h.endWhere("session or membership ended", func(s *subscriber) bool {
		return !valid[store.StreamGrant{SessionHash: s.session, OrgID: s.tenant.OrgID}]
	})
	return nil
}
