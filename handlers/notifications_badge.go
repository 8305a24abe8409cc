package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// The header's notifications badge: its count on every page (inbox), as
// a fragment (GET /notifications/badge), and whose a notification.*
// signal is (the live badge on topic "me").

// notificationsBadge is GET /notifications/badge: the header's badge as
// it is now (the page fetches it when its "me" stream opens, so a change
// made while the stream was closed shows too).
func (h *Handler) notificationsBadge(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	n, err := h.unreadFresh(ctx, t, a.Session.UserID)
	if err != nil {
		return err
	}
	// Always the fragment: it is what the page asks for, with or without
	// htmx's header.
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(http.StatusOK)
	return h.views.Render(c.Writer, "notifications", "inbox_badge", views.Inbox{Unread: n})
}

// inbox is the header's badge for the page being built; nil when the
// count cannot be read (the page still works: the badge just is not
// there).
func (h *Handler) inbox(c *gin.Context) *views.Inbox {
	a := authOf(c)
	n, err := h.unread(c.Request.Context(), tenant(c), a.Session.UserID)
	if err != nil {
		h.log.Warn("unread notifications", "err", err)
		return nil
	}
	return &views.Inbox{Unread: n}
}

// notifiedUser is whose notifications a notification.* signal is about.
func notifiedUser(sig store.Signal) (int64, error) {
	if sig.SubjectType != "user" {
		return 0, errNotFound
	}
	return strconv.ParseInt(sig.SubjectID, 10, 64)
}
