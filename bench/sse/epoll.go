package main

import (
	"bytes"
	"fmt"
	"net"
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
type reader struct {
	g     *gen
	epfds []int
	conns []atomic.Pointer[rconn] // by file descriptor
}

const napTime = 500 * time.Microsecond

// rconn is one subscriber's socket. tail keeps the end of the previous
// read, so a marker split across two reads is still found.
type rconn struct {
	fd   int
	tail []byte
}

func newReader(g *gen, loops int) (*reader, error) {
	r := &reader{g: g, conns: make([]atomic.Pointer[rconn], 1<<16)}
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
// would otherwise wake for every event too), and registers it.
func (r *reader) dial(addr *net.TCPAddr, request []byte) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	sa := &syscall.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return err
	}
	if _, err := syscall.Write(fd, request); err != nil {
		syscall.Close(fd)
		return err
	}
	// The status line and headers come first, on their own.
	head := make([]byte, 0, 1024)
	buf := make([]byte, 1024)
	for !bytes.Contains(head, []byte("\r\n\r\n")) {
		n, err := syscall.Read(fd, buf)
		if n <= 0 || err != nil {
			syscall.Close(fd)
			return fmt.Errorf("read response: %v", err)
		}
		head = append(head, buf[:n]...)
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
	r.conns[fd].Store(&rconn{fd: fd})
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
		if n == 0 {
			continue
		}
		now := time.Now().UnixNano()
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			c := r.conns[fd].Load()
			if c == nil {
				continue
			}
			for {
				m, err := syscall.Read(fd, buf)
				if m > 0 {
					r.scan(c, buf[:m], now)
				}
				if err == syscall.EAGAIN || m < len(buf) && err == nil {
					break
				}
				if err != nil || m == 0 {
					syscall.EpollCtl(epfd, syscall.EPOLL_CTL_DEL, fd, nil)
					syscall.Close(fd)
					r.conns[fd].Store(nil)
					break
				}
			}
		}
		if n < len(events) {
			time.Sleep(napTime)
		}
	}
}

// scan records every "benchmsg <i>" in data. A marker split between two
// reads is found through tail, the end of the previous read kept only
// when it could begin one (events are written whole, so it rarely is):
// no copy of the data on every read.
func (r *reader) scan(c *rconn, data []byte, now int64) {
	if n := len(c.tail); n > 0 {
		var buf [64]byte
		joined := append(append(buf[:0], c.tail...), data[:min(len(data), len(buf)-n)]...)
		c.tail = c.tail[:0]
		if at := bytes.Index(joined, marker); at >= 0 && at < n {
			if i, end, ok := number(joined[at+len(marker):]); ok {
				r.found(i, now)
				data = data[max(at+len(marker)+end-n, 0):]
			}
		}
	}
	for {
		at := bytes.Index(data, marker)
		if at < 0 {
			break
		}
		i, end, ok := number(data[at+len(marker):])
		if !ok {
			c.tail = append(c.tail[:0], data[at:]...) // the number may continue in the next read
			return
		}
		r.found(i, now)
		data = data[at+len(marker)+end:]
	}
	// Keep the end of data only if it could be the start of a marker.
	for k := min(len(data), len(marker)-1); k > 0; k-- {
		if bytes.HasPrefix(marker, data[len(data)-k:]) {
			c.tail = append(c.tail[:0], data[len(data)-k:]...)
			return
		}
	}
}

// number reads the digits at the start of b; ok is false when they may
// continue past its end.
func number(b []byte) (i, end int, ok bool) {
	for end < len(b) && b[end] >= '0' && b[end] <= '9' {
		i = i*10 + int(b[end]-'0')
		end++
	}
	return i, end, end < len(b)
}

func (r *reader) found(i int, now int64) {
	if i < len(r.g.sent) {
		if sent := r.g.sent[i].Load(); sent != 0 {
			r.g.record(i, time.Duration(now-sent))
		}
	}
}
