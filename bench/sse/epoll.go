package main

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// reader receives the streams of many subscribers on a few goroutines,
// each waiting on an epoll set and reading the sockets directly, so the
// generator spends its CPU on reading rather than on waking one goroutine
// per connection per event: the server, not the generator, is measured.
//
// A loop that has caught up naps for napTime before waiting again, so
// the next epoll_wait collects the sockets that became readable
// meanwhile. Otherwise a loop that keeps up sleeps after almost every
// socket, and each of the server's writes would also have to wake it (on
// loopback the writer pays for the reader's wake-up: an inter-processor
// interrupt, a VM exit here), a cost no remote browser puts on a server.
// Receipt is stamped when epoll_wait returns, so a nap can only make a
// latency look longer (by at most napTime), never shorter.
//
// A stream the server ends (it cut a subscriber that fell behind) is
// opened again at once with Last-Event-ID, as a browser's EventSource
// does: what it missed must arrive through the replay, or it counts as
// lost. An event whose id is not above the last one its connection had
// counts as a duplicate.
type reader struct {
	g     *gen
	addr  *net.TCPAddr
	epfds []int
	conns []atomic.Pointer[rconn] // by file descriptor

	closing    atomic.Bool // the run is over: ended streams stay closed
	reconnects atomic.Int64
	duplicates atomic.Int64
	redialFail atomic.Int64
}

const napTime = 500 * time.Microsecond

// rconn is one subscriber's socket and where its parser stands. line
// keeps a line split between two reads.
type rconn struct {
	fd     int
	line   []byte
	lastID int64 // the id of the last event seen
	dup    bool  // the event being read is a duplicate
}

func newReader(g *gen, addr *net.TCPAddr, loops int) (*reader, error) {
	r := &reader{g: g, addr: addr, conns: make([]atomic.Pointer[rconn], 1<<16)}
	for i := 0; i < loops; i++ {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return nil, err
		}
		r.epfds = append(r.epfds, fd)
		go r.loop(fd)
	}
	return r, nil
}

// dial opens a stream on a raw socket, outside Go's network poller (which
// would otherwise wake for every event too), and registers it. lastID > 0
// resumes after that event.
func (r *reader) dial(lastID int64) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	sa := &syscall.SockaddrInet4{Port: r.addr.Port}
	copy(sa.Addr[:], r.addr.IP.To4())
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return err
	}
	if _, err := syscall.Write(fd, r.g.request(lastID)); err != nil {
		syscall.Close(fd)
		return err
	}
	// The status line and headers come first, on their own.
	head := make([]byte, 0, 1024)
	buf := make([]byte, 1024)
	for {
		n, err := syscall.Read(fd, buf)
		if n <= 0 || err != nil {
			syscall.Close(fd)
			return fmt.Errorf("read response: %v", err)
		}
		head = append(head, buf[:n]...)
		if bytes.Contains(head, []byte("\r\n\r\n")) {
			break
		}
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) {
		syscall.Close(fd)
		return fmt.Errorf("response %q", head[:min(len(head), 40)])
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return err
	}
	if fd >= len(r.conns) {
		syscall.Close(fd)
		return fmt.Errorf("descriptor %d out of range", fd)
	}
	c := &rconn{fd: fd, lastID: lastID}
	r.conns[fd].Store(c)
	// Events may have come with the headers.
	_, rest, _ := bytes.Cut(head, []byte("\r\n\r\n"))
	r.scan(c, rest, time.Now().UnixNano())
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	return syscall.EpollCtl(r.epfds[fd%len(r.epfds)], syscall.EPOLL_CTL_ADD, fd, &ev)
}

func (r *reader) loop(epfd int) {
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.EpollWait(epfd, events, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			fmt.Println("epoll:", err)
			return
		}
		now := time.Now().UnixNano()
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			if c := r.conns[fd].Load(); c != nil {
				r.drain(epfd, c, buf, now)
			}
		}
		if n < len(events) {
			time.Sleep(napTime)
		}
	}
}

// drain reads what the socket holds; at its end, the stream is opened
// again where it stopped.
func (r *reader) drain(epfd int, c *rconn, buf []byte, now int64) {
	for {
		m, err := syscall.Read(c.fd, buf)
		if m > 0 {
			r.scan(c, buf[:m], now)
		}
		if err == syscall.EAGAIN || m < len(buf) && m > 0 && err == nil {
			return
		}
		if err != nil || m == 0 {
			syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
			r.conns[c.fd].Store(nil)
			syscall.Close(c.fd)
			if !r.closing.Load() {
				r.reconnects.Add(1)
				go func(last int64) {
					if err := r.dial(last); err != nil {
						r.redialFail.Add(1)
						fmt.Println("resume:", err)
					}
				}(c.lastID)
			}
			return
		}
	}
}

// scan parses data as an EventSource does, line by line: an "id:" line
// starts an event (a duplicate when its id is not above the last one),
// and every "benchmsg <i>" in its data lines is reply i received.
func (r *reader) scan(c *rconn, data []byte, now int64) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			c.line = append(c.line, data...)
			return
		}
		line := data[:i]
		if len(c.line) > 0 {
			line = append(c.line, line...)
			c.line = c.line[:0]
		}
		data = data[i+1:]
		r.line(c, line, now)
	}
}

var (
	idPrefix   = []byte("id: ")
	dataPrefix = []byte("data: ")
	marker     = []byte("benchmsg ")
)

func (r *reader) line(c *rconn, line []byte, now int64) {
	switch {
	case bytes.HasPrefix(line, idPrefix):
		id, err := strconv.ParseInt(string(line[len(idPrefix):]), 10, 64)
		if err != nil {
			return
		}
		c.dup = id <= c.lastID
		if c.dup {
			r.duplicates.Add(1)
		}
		c.lastID = max(c.lastID, id)
	case bytes.HasPrefix(line, dataPrefix) && !c.dup:
		for {
			at := bytes.Index(line, marker)
			if at < 0 {
				return
			}
			line = line[at+len(marker):]
			n := 0
			for n < len(line) && line[n] >= '0' && line[n] <= '9' {
				n++
			}
			if i, err := strconv.Atoi(string(line[:n])); err == nil {
				r.found(i, now)
			}
			line = line[n:]
		}
	}
}

func (r *reader) found(i int, now int64) {
	if i < len(r.g.sent) {
		if sent := r.g.sent[i].Load(); sent != 0 {
			r.g.record(i, time.Duration(now-sent))
		}
	}
}
