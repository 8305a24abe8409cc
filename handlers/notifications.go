package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// The notifications inbox (SPEC §16): GET /notifications lists the
// person's own notifications, unread first, in the same words as the
// dashboard feed (views.Describe, said from the reader's side); POST
// forms mark one or all read (303 back to the page; htmx swaps the row
// and the header badge in place). Everything is the signed-in person's
// own: another's notification is not found.

// notificationsPage is the inbox's Data.
type notificationsPage struct {
	Items  []notificationItem
	Pager  store.Pager
	Unread int
}

// notificationItem is one row of the inbox.
type notificationItem struct {
	ID       string
	Unread   bool
	Reason   string
	At       time.Time
	Sentence views.Sentence
	Page     int // the inbox page it is on (the mark-read form returns there)
}

// notificationAnswer is an htmx mark-read answer: the row, and the
// header's badge out of band.
type notificationAnswer struct {
	Item  notificationItem
	Inbox views.Inbox
}

func (h *Handler) notifications(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	ns, pager, err := h.store.Notifications(ctx, t, a.Session.UserID, pageParam(c))
	if err != nil {
		return err
	}
	d := notificationsPage{Pager: pager}
	if d.Items, err = h.notificationItems(ctx, t, ns, pager.Page, a.Member.IsAdmin()); err != nil {
		return err
	}
	if d.Unread, err = h.store.UnreadNotifications(ctx, t, a.Session.UserID); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "notifications", "content", h.page(c, "Notifications", d))
}

// notificationItems says ns in words, from the reader's side.
func (h *Handler) notificationItems(ctx context.Context, t store.Tenant, ns []store.Notification, page int, raw bool) ([]notificationItem, error) {
	sigs := make([]store.Signal, len(ns))
	for i, n := range ns {
		sigs[i] = n.Signal
	}
	facts, err := h.facts(ctx, t, sigs)
	if err != nil {
		return nil, err
	}
	out := make([]notificationItem, len(ns))
	for i, n := range ns {
		facts[i].Reason = n.Reason
		s := views.Describe(facts[i])
		s.Raw = raw
		out[i] = notificationItem{ID: n.ID, Unread: n.Unread(), Reason: n.Reason, At: n.CreatedAt, Sentence: s, Page: page}
	}
	return out, nil
}

// notificationRead is POST /notifications/:id/read.
func (h *Handler) notificationRead(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	n, err := h.store.MarkNotificationRead(ctx, t, a.Session.UserID, c.Param("id"))
	if err != nil {
		return err // another's, or none: not found
	}
	page := formPage(c)
	if !isHTMX(c) {
		return redirect(c, inboxURL(page))
	}
	items, err := h.notificationItems(ctx, t, []store.Notification{n}, page, a.Member.IsAdmin())
	if err != nil {
		return err
	}
	unread, err := h.store.UnreadNotifications(ctx, t, a.Session.UserID)
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
	if n > 0 {
		h.flash(c, "success", "Marked "+plural(n, "notification")+" read.")
	}
	return redirect(c, inboxURL(formPage(c)))
}

// notificationsBadge is GET /notifications/badge: the header's badge as
// it is now (the page fetches it when its "me" stream opens, so a change
// made while the stream was closed shows too).
func (h *Handler) notificationsBadge(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	n, err := h.store.UnreadNotifications(ctx, t, a.Session.UserID)
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
	n, err := h.store.UnreadNotifications(c.Request.Context(), tenant(c), a.Session.UserID)
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
