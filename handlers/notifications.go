package handlers

import (
	"context"
	"net/http"
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
	// More is how many later replies collapsed into it (the sentence
	// tells of the first).
	More int
	Page int // the inbox page it is on (the mark-read form returns there)
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
	if d.Unread, err = h.unreadFresh(ctx, t, a.Session.UserID); err != nil {
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
		out[i] = notificationItem{ID: n.ID, Unread: n.Unread(), Reason: n.Reason, At: n.CreatedAt, Sentence: s, More: n.Count - 1, Page: page}
	}
	return out, nil
}
