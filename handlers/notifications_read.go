package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// Marking notifications read: POST forms that answer 303 back to the
// inbox page they came from, or with htmx the row and the badge.

// notificationRead is POST /notifications/:id/read.
func (h *Handler) notificationRead(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	n, err := h.store.MarkNotificationRead(ctx, t, a.Session.UserID, c.Param("id"))
	if err != nil {
		return err // another's, or none: not found
	}
	h.forgetUnread(t, a.Session.UserID)
	page := formPage(c)
	if !isHTMX(c) {
		return redirect(c, inboxURL(page))
	}
	items, err := h.notificationItems(ctx, t, []store.Notification{n}, page, a.Member.IsAdmin())
	if err != nil {
		return err
	}
	unread, err := h.unreadFresh(ctx, t, a.Session.UserID)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "notifications", "notification_answer",
		notificationAnswer{Item: items[0], Inbox: views.Inbox{Unread: unread, OOB: true}})
}

// notificationsReadAll is POST /notifications/read-all.
func (h *Handler) notificationsReadAll(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	n, err := h.store.MarkAllNotificationsRead(ctx, t, a.Session.UserID)
	if err != nil {
		return err
	}
	h.forgetUnread(t, a.Session.UserID)
	if n > 0 {
		h.flash(c, "success", "Marked "+plural(n, "notification")+" read.")
	}
	return redirect(c, inboxURL(formPage(c)))
}

// formPage is the inbox page a form came from (1 if none or nonsense).
func formPage(c *gin.Context) int {
	n, err := strconv.Atoi(c.PostForm("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func inboxURL(page int) string {
	if page <= 1 {
		return "/notifications"
	}
	return "/notifications?page=" + strconv.Itoa(page)
}
