package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/r3labs/sse/v2"
)

var errNoHandshake = errors.New("live: r3labs did not answer the stream")

// handshake has r3labs answer the stream's request on w: status 200 and
// its headers, flushed. It runs on the stream's writer and returns once
// r3labs has let go of w and its private stream is gone, so nothing of
// r3labs outlives the handshake (see the package comment for why its
// fan-out is not used).
func (h *Hub) handshake(s *subscriber, w http.ResponseWriter) error {
	released := make(chan struct{})
	h.streamsMu.Lock()
	h.streams[s.id] = released
	h.streamsMu.Unlock()
	h.sse.CreateStream(s.id)

	answered := false
	hw := &handshakeWriter{ResponseWriter: w, answered: func() {
		// ServeHTTP registers its subscriber before it answers 200, so
		// this event reaches it: an event with neither data nor comment
		// makes it return, right after it has flushed the headers.
		answered = true
		h.sse.Publish(s.id, endOfR3labs)
	}}
	req := &http.Request{Method: http.MethodGet, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
		URL: &url.URL{Path: "/events", RawQuery: "stream=" + url.QueryEscape(s.id)}}
	ctx, cancel := context.WithCancel(s.ctx)
	h.sse.ServeHTTP(hw, req.WithContext(ctx))
	cancel() // r3labs' watcher deregisters its subscriber
	if answered {
		<-released // deregistered: removing the stream strands nothing
	} else {
		h.streamsMu.Lock()
		delete(h.streams, s.id)
		h.streamsMu.Unlock()
	}
	h.sse.RemoveStream(s.id)
	if !answered {
		return errNoHandshake
	}
	if f, ok := w.(*connWriter); ok && f.err != nil {
		return fmt.Errorf("write handshake: %w", f.err)
	}
	return nil
}

// unsubscribed is r3labs' OnUnsubscribe: the handshake's subscriber has
// deregistered, so its stream can be removed without stranding r3labs'
// context watcher.
func (h *Hub) unsubscribed(streamID string, _ *sse.Subscriber) {
	h.streamsMu.Lock()
	released := h.streams[streamID]
	delete(h.streams, streamID)
	h.streamsMu.Unlock()
	if released != nil {
		close(released)
	}
}

// endOfR3labs, published to a handshake's private stream, makes r3labs'
// ServeHTTP return without writing anything (it stops at an event with
// neither data nor comment).
var endOfR3labs = &sse.Event{}

// handshakeWriter tells the handshake when r3labs answers 200, and keeps
// Flush working.
type handshakeWriter struct {
	http.ResponseWriter
	once     sync.Once
	answered func()
}

func (w *handshakeWriter) WriteHeader(code int) {
	w.ResponseWriter.WriteHeader(code)
	if code == http.StatusOK {
		w.once.Do(w.answered)
	}
}

func (w *handshakeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// connWriter is the ResponseWriter r3labs answers a taken-over
// connection through: the status line and headers are assembled and
// written at Flush, in one write. The response is delimited by closing
// the connection (no chunking, no Content-Length).
type connWriter struct {
	conn   net.Conn
	header http.Header
	buf    []byte
	err    error
}

func (w *connWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *connWriter) WriteHeader(code int) {
	hd := w.Header()
	hd.Set("Connection", "close")
	hd.Del("Content-Length")
	w.buf = fmt.Appendf(w.buf, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	hd.Write(appender{&w.buf})
	w.buf = append(w.buf, "\r\n"...)
}

func (w *connWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *connWriter) Flush() {
	if len(w.buf) == 0 || w.err != nil {
		return
	}
	_, w.err = w.conn.Write(w.buf)
	w.buf = nil
}

type appender struct{ b *[]byte }

func (a appender) Write(p []byte) (int, error) {
	*a.b = append(*a.b, p...)
	return len(p), nil
}
