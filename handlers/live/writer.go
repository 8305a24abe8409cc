package live

import (
	"net"
	"net/http"
	"time"
)

// run is the stream's writer: the one goroutine that writes to its
// client, from the handshake to the end. It has r3labs answer the
// request, writes the replay page by page, then goes live and writes
// whatever the fan-out queued, all of it in one write each time it wakes.
// It returns when the stream ends.
func (s *subscriber) run(out sink, w http.ResponseWriter, rp *replayer, first []*event) {
	defer s.hub.waker.exit(s)
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
		// One channel, not a select with the context: stop wakes the
		// writer too, and take then reports the stream ended. Once
		// running, it hands its place in the waker's budget on, and
		// anything queued from now on wakes it again.
		<-s.wake
		s.scheduled.Store(false)
		s.hub.waker.started()
		// A writer that fell behind finds several frames here: they
		// leave in one write.
		var ended bool
		if batch, ended = s.take(batch); ended {
			return
		}
		if len(batch) > 0 && !s.send(out, batch) {
			return
		}
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
type connSink struct{ conn net.Conn }

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
