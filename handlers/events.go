package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/handlers/live"
)

// events is GET /events?topic=T: the current organization's live stream
// of one topic (SPEC §11). The topic is checked against the caller's
// current tenant before the hub picks the stream, so another
// organization's thread or category is simply not found.
func (h *Handler) events(c *gin.Context) error {
	if h.live == nil {
		return errNotFound
	}
	a, t := authOf(c), tenant(c)
	ctx := c.Request.Context()
	topic, err := live.ParseTopic(c.Query("topic"))
	if err != nil {
		return errNotFound
	}
	switch topic.Kind {
	case live.KindTenant, live.KindInstallations:
		// The current organization's own: nothing more to check.
	case live.KindThread:
		if _, err := h.store.ForumThread(ctx, t, topic.Arg); err != nil {
			return err
		}
	case live.KindCategory:
		if _, err := h.store.ForumCategoryBySlug(ctx, t, topic.Arg); err != nil {
			return err
		}
	case live.KindChat:
		// A conversation is its owner's alone: another member's (or
		// another tenant's) is not found.
		if _, err := h.store.Conversation(ctx, t, a.Session.UserID, topic.Arg); err != nil {
			return err
		}
	case live.KindExecution:
		// Another tenant's is not found; a private one (a chat answer)
		// is its owner's alone.
		ex, err := h.store.Execution(ctx, t, topic.Arg)
		if err != nil {
			return err
		}
		if !ex.VisibleTo(a.Session.UserID) {
			return errNotFound
		}
	case live.KindMe:
		// One's own, always: the stream is the session's user's, whatever
		// the client asked.
		topic.Arg = strconv.FormatInt(a.Session.UserID, 10)
	case live.KindRun:
		if _, err := h.store.Run(ctx, t, topic.Arg); err != nil {
			return err
		}
	default:
		// A kind this handler does not check is never served.
		return errNotFound
	}
	// The browser's Last-Event-ID wins; the page's own seq (in the URL)
	// covers the first connection and htmx-ext-sse's reconnects, which
	// open a new EventSource without the header.
	cursor := c.GetHeader("Last-Event-ID")
	if cursor == "" {
		cursor = c.Query("last_event_id")
	}
	req := live.Request{Tenant: t, Topic: topic, Session: a.Token, UserID: a.Session.UserID, Moderator: a.Member.IsAdmin()}
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 {
			c.String(http.StatusBadRequest, "last event id must be a signal seq")
			return nil
		}
		req.After, req.Resume = n, true
	} else {
		// No cursor: the stream starts now. The latest seq is read before
		// subscribing and replayed after, so a signal committed in between
		// is sent, and one whose notification arrives late is not sent as
		// if it were new.
		n, err := h.store.LatestSignalSeq(ctx, t)
		if err != nil {
			return err
		}
		req.After, req.Resume = n, true
	}
	if err := h.live.Serve(c.Writer, c.Request, req); errors.Is(err, live.ErrClosed) {
		c.String(http.StatusServiceUnavailable, "shutting down")
		return nil
	} else if err != nil {
		return err
	}
	return nil
}

// endStreams ends a session's live streams (sign-out).
func (h *Handler) endStreams(c *gin.Context, token string) {
	if h.live == nil || token == "" {
		return
	}
	if err := h.live.EndSession(c.Request.Context(), token); err != nil {
		h.log.Warn("end live streams", "err", err)
	}
}
