package handlers

import (
	"context"

	"github.com/gin-gonic/gin"
)

// settingsSessionsRevoke is POST /settings/sessions/revoke-others: every
// session of the user but this one ends, at once, in every process.
func (h *Handler) settingsSessionsRevoke(c *gin.Context) error {
	ctx, a := c.Request.Context(), authOf(c)
	ended, err := h.store.DeleteOtherSessions(ctx, a.Session.UserID, a.Token)
	if err != nil {
		return err
	}
	h.endSessions(ctx, ended)
	h.flash(c, "info", signedOutText(len(ended)))
	return redirect(c, "/settings/sessions")
}

// endSessions finishes what deleting sessions' rows began (their cookies
// already load nothing from the database): each is dropped from this
// process's session cache now, and announced on the live hub's control
// channel as a sign-out — "session:<hash>", the message sign-out's
// EndSession sends — on which every process's hub ends the session's
// streams and every session cache drops its entry (session_cache.go).
func (h *Handler) endSessions(ctx context.Context, hashes []string) {
	for _, key := range hashes {
		if h.sessions != nil {
			h.sessions.dropKey(key)
		}
		if h.live != nil {
			if err := h.live.Announce(ctx, "session:"+key); err != nil {
				h.log.Warn("announce ended session", "err", err)
			}
		}
	}
}
