package live

import (
	"syscall"
	"unsafe"
)

// directSends: taken-over streams are written by the hub once live.
const directSends = true

// sendNow sends as much of frame as the socket takes right now with one
// send(2) that never waits. ok is false when the connection is broken.
//
// It bypasses Go's poller (net.RawConn) and write(2): at 10,000
// connections per event their bookkeeping (the descriptor's locks and
// poll state, the VFS write path) was a fifth of the fan-out's cost, and
// a send that must not wait needs none of it. The caller guarantees fd is
// open (subscriber.conn).
func sendNow(fd int, frame []byte) (n int, ok bool) {
	for {
		r, _, errno := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(frame))),
			uintptr(len(frame)), syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
		switch errno {
		case 0:
			return int(r), true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, true // the socket's buffer is full
		default:
			return 0, false
		}
	}
}
