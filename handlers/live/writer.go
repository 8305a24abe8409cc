package live

import (
	"net"
	"net/http"
	"syscall"
	"time"
)

// run is the stream's writer: it has r3labs answer the request, writes
// the replay page by page, then goes live and writes whatever the
// fan-out queued, all of it in one write each time it wakes. While it
// is idle (nothing queued, nothing being written) the fan-out writes a
// frame to the socket itself, without waiting (enqueueLocked); one of
// the two writes at a time, never both. It returns when the stream ends.
func (s *subscriber) run(out sink, w http.ResponseWriter, rp *replayer, first []*event) {
	defer s.hub.waker.exit(s)
	if c, ok := out.(*connSink); ok {
		s.fd = c.fd // read under s.mu, once the writer has gone idle
	}
	if err := s.hub.handshake(s, w); err != nil {
		if s.ctx.Err() == nil {
			s.hub.log.Warn("live handshake", "topic", s.key, "err", err)
		}
		return
	}
	if rp != nil {
		if !s.replay(out, rp, first) {
			return
		}
		s.goLive(rp.after)
	} else {
		s.goLive(0)
	}
	s.hub.greet(s) // an ephemeral flow under way: its catch-up
	var batch [][]byte
	for {
		// Write whatever is queued, in one write each time round, until
		// the queue is empty: then the writer is idle, and the fan-out
		// writes to the socket itself (enqueueLocked) until the socket
		// does not take a frame whole and the rest is queued.
		for {
			var ended bool
			if batch, ended = s.take(batch); ended {
				return
			}
			if len(batch) == 0 {
				break
			}
			if !s.send(out, batch) {
				return
			}
		}
		// One channel, not a select with the context: stop wakes the
		// writer too, and take then reports the stream ended. Once
		// running, it hands its place in the waker's budget on.
		<-s.wake
		s.scheduled.Store(false)
		s.hub.waker.started()
	}
}

// replay writes what the client missed, one page of signals per write,
// starting with the page Serve read before the handshake. Live events
// wait in pending meanwhile. A client whose replay takes longer than
// CatchUpTimeout is cut.
func (s *subscriber) replay(out sink, rp *replayer, page []*event) bool {
	timer := time.AfterFunc(s.hub.cfg.CatchUpTimeout, func() { s.cut("replay too slow") })
	defer timer.Stop()
	var frames [][]byte
	for {
		frames = frames[:0]
		for _, ev := range page {
			frames = append(frames, ev.frame)
		}
		if len(frames) > 0 && !s.send(out, frames) {
			return false
		}
		if rp.done {
			return true
		}
		var err error
		if page, err = rp.next(s.ctx); err != nil {
			if s.ctx.Err() == nil {
				s.hub.log.Error("live replay", "topic", s.key, "after", rp.after, "err", err)
				s.end("replay failed")
			}
			return false
		}
	}
}

// send writes frames in one write and counts it. On failure the stream
// ends: gone when the client closed the connection (a write blocked past
// WriteTimeout is cut by the hub's watchdog, watchdog.go); false tells
// the writer to stop.
func (s *subscriber) send(out sink, frames [][]byte) bool {
	start := time.Now().UnixNano()
	s.writing.Store(start)
	err := out.write(frames)
	s.writing.Store(0)
	st := &s.hub.stats
	st.writes.Add(1)
	st.frames.Add(int64(len(frames)))
	if len(frames) > 1 {
		st.coalescedWrites.Add(1)
	}
	if err == nil {
		s.lastWrite.Store(start) // near enough for heartbeats, and one clock read fewer
		return true
	}
	s.gone() // or ended meanwhile: the abort made the write fail
	return false
}

// sink is where a stream's frames go.
type sink interface {
	// write sends frames, in order, in one write.
	write(frames [][]byte) error
}

// connSink writes to a taken-over connection. It sets no write deadline:
// at 10,000 streams the timer work of one per write cost a tenth of the
// fan-out; the watchdog does the same job from one loop.
type connSink struct {
	conn net.Conn
	// fd is the socket's descriptor (-1 if the connection has none), for
	// the fan-out's writes to an idle stream (writeSome). Writing to it
	// directly is safe because every close of conn comes after the stream
	// has ended (stop, under the subscriber's lock), and writeSome is only
	// called under that lock on a stream that has not ended: the
	// descriptor cannot have been closed, let alone reused. It skips
	// net's descriptor locks and poller bookkeeping, which cost a tenth of
	// a fan-out to 10,000 streams (three cache misses per write).
	fd int
}

func newConnSink(conn net.Conn) *connSink {
	c := &connSink{conn: conn, fd: -1}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			raw.Control(func(fd uintptr) { c.fd = int(fd) })
		}
	}
	return c
}

// writeSome writes b to socket fd without waiting for the client (net's
// sockets are non-blocking): n is how much of it the socket took (all,
// some, or none when its buffer is full). An error means the connection
// is gone. Called under the subscriber's lock, on a stream that has not
// ended (see connSink.fd).
func writeSome(fd int, b []byte) (n int, err error) {
	n, err = syscall.Write(fd, b)
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return 0, nil
	case err != nil:
		return 0, err
	}
	return n, nil
}

func (c *connSink) write(frames [][]byte) error {
	if len(frames) == 1 {
		_, err := c.conn.Write(frames[0])
		return err
	}
	// One writev(2) on a TCP connection, however many frames.
	bufs := net.Buffers(frames)
	_, err := bufs.WriteTo(c.conn)
	return err
}

// responseSink writes to a response that could not be taken over
// (HTTP/2, test recorders): buffered by net/http, flushed once.
type responseSink struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (r *responseSink) write(frames [][]byte) error {
	for _, f := range frames {
		if _, err := r.w.Write(f); err != nil {
			return err
		}
	}
	return r.rc.Flush()
}
