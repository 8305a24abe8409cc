package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
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
			return h.streamFailed(c, err)
		}
	case live.KindCategory:
		if _, err := h.store.ForumCategoryBySlug(ctx, t, topic.Arg); err != nil {
			return h.streamFailed(c, err)
		}
	case live.KindChat:
		// A conversation is its owner's alone: another member's (or
		// another tenant's) is not found.
		if _, err := h.store.Conversation(ctx, t, a.Session.UserID, topic.Arg); err != nil {
			return h.streamFailed(c, err)
		}
	case live.KindExecution:
		// Another tenant's is not found; a private one (a chat answer)
		// is its owner's alone.
		ex, err := h.store.Execution(ctx, t, topic.Arg)
		if err != nil {
			return h.streamFailed(c, err)
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
			return h.streamFailed(c, err)
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
	// Every stream carries the person's own "me" events beside its topic:
	// the page's one stream keeps the header's badge too (app.js).
	req := live.Request{Tenant: t, Topic: topic, Session: a.Token, UserID: a.Session.UserID, Moderator: a.Member.IsAdmin(),
		WithMe: true}
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
			return h.streamFailed(c, err)
		}
		req.After, req.Resume = n, true
	}
	return h.streamFailed(c, h.live.Serve(c.Writer, c.Request, req))
}

// streamFailed answers a stream that cannot start. A browser's
// EventSource shows no page, and htmx's SSE extension opens the stream
// again after a failed answer, with a growing delay: so a refusal by the
// caps is a plain 429, and anything else on the server's side (the hub
// shutting down, the database unreachable) a plain 503, both with
// Retry-After, never a 500. A topic that is not found stays a 404.
func (h *Handler) streamFailed(c *gin.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, live.ErrSessionStreams):
		holdRefusal(c.Request.Context())
		c.Header("Retry-After", "30")
		c.String(http.StatusTooManyRequests, "Too many live streams are open for this session: close some tabs, then try again.\n")
	case errors.Is(err, live.ErrTooManyStreams):
		c.Header("Retry-After", "30")
		c.String(http.StatusTooManyRequests, "This server is at its limit of live streams: try again shortly.\n")
	case errors.Is(err, live.ErrClosed):
		c.Header("Retry-After", "5")
		c.String(http.StatusServiceUnavailable, "The server is restarting: try again shortly.\n")
	default:
		h.log.Warn("live stream unavailable", "path", c.Request.URL.Path, "err", err)
		c.Header("Retry-After", "5")
		c.String(http.StatusServiceUnavailable, "Live updates are unavailable right now: try again shortly.\n")
	}
	return nil
}

// streamRefusalHold is how long a session past its stream cap waits for
// its 429. A session that asks for a seventeenth stream is a page
// reopening in a loop or a flood, and answered at once it asks again at
// once: each ask costs a connection, a session lookup and a query, taken
// from everyone else's pages. Held, a flooder's asks come at most one per
// hold for each connection it keeps waiting, for the price of a parked
// goroutine; the session's open streams and every other session are not
// touched.
const streamRefusalHold = 2 * time.Second

func holdRefusal(ctx context.Context) {
	t := time.NewTimer(streamRefusalHold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
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
