package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"fleetprompt/store"
)

// Request is one checked subscription: the handler has made sure the
// topic belongs to the caller's current organization.
type Request struct {
	Tenant store.Tenant
	Topic  Topic
	// After is the last seq the page has; with Resume set, the signals
	// after it are replayed from the database before going live.
	After  int64
	Resume bool
	// Session is the caller's session token: ending the session (sign-out)
	// ends its streams, and MaxSessionStreams counts per session. UserID
	// and OrgID identify the membership, so a disabled member's streams
	// end too.
	Session string
	UserID  int64
	// Moderator (owner or admin) streams get the moderators' variant of
	// fragments (e.g. posts with their moderation forms).
	Moderator bool
	// WithMe adds the person's own events (topic "me": their
	// notifications badge) to a stream of another topic, without ids, so
	// they move none of its cursors: a page needs one stream, not two (a
	// browser opens six connections per site over HTTP/1.1, and two
	// streams a tab ran out at the third tab).
	WithMe bool
}

// Serve streams the request's topic until the client goes away, the
// session ends or the hub closes. Call it from a handler that has checked
// the topic against the caller's organization.
//
// Before anything is written it registers the stream (so every signal
// committed from then on reaches it) and reads the first page of its
// replay: a stream refused by the caps (ErrTooManyStreams,
// ErrSessionStreams) or by the database (ErrUnavailable), or the hub
// closing (ErrClosed), is an error the handler answers with a status.
//
// On HTTP/1.1 the connection is then taken over (hijacked) and Serve
// returns: the request's goroutine, with the deep stack of the middleware
// chain, its buffers and its context are freed. Two goroutines of the
// hub's own serve the stream: its writer (handshake, replay, then live
// frames) and a reader that notices the client leaving. Elsewhere
// (HTTP/2, test recorders) the request's goroutine is the writer and
// Serve returns when the stream ends.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, req Request) error {
	rc := http.NewResponseController(w)
	if err := clearWriteDeadline(rc); err != nil {
		return fmt.Errorf("clear write deadline: %w", err)
	}
	s := h.newSubscriber(req)
	if err := h.add(s); err != nil {
		s.cancel()
		return err
	}
	var rp *replayer
	var first []*event
	if req.Resume {
		rp = newReplayer(h, s, req.After)
		var err error
		if first, err = rp.next(s.ctx); err != nil {
			ended := s.ctx.Err() != nil // signed out, or the hub closing
			h.discard(s)
			if ended {
				return ErrClosed
			}
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		stopWatching := context.AfterFunc(r.Context(), s.gone)
		defer stopWatching()
		if s.setAbort(func() { rc.SetWriteDeadline(time.Now()) }) {
			s.run(&responseSink{w: w, rc: rc}, w, rp, first)
		}
		h.discard(s)
		return nil
	}
	if !s.setAbort(func() { conn.Close() }) {
		h.discard(s)
		return nil
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetWriteBuffer(h.cfg.SendBuffer) // best effort: the default only costs memory
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		// The client never sends anything on a stream: a read returns
		// only when it has gone (or the hub closed the connection).
		var b [1]byte
		for {
			if _, err := conn.Read(b[:]); err != nil {
				s.gone()
				return
			}
		}
	}()
	go func() {
		s.run(newConnSink(conn), &connWriter{conn: conn}, rp, first)
		s.stop() // closes the connection: the reader returns
		<-readerDone
		h.remove(s)
	}()
	return nil
}

// discard ends a stream whose writer has returned or never ran, and
// deregisters it: nothing may stay promised to it in the waker.
func (h *Hub) discard(s *subscriber) {
	s.stop()
	h.waker.exit(s)
	h.remove(s)
}

// clearWriteDeadline lifts http.Server.WriteTimeout for this response: it
// would otherwise cut every stream after a fixed time. The hub's watchdog
// cuts a write blocked past Config.WriteTimeout instead.
func clearWriteDeadline(rc *http.ResponseController) error {
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
