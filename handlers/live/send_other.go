//go:build !linux

package live

// directSends is off where send(2) with MSG_NOSIGNAL is not at hand:
// taken-over streams stay on their r3labs stream once live (the slower
// path, two goroutines per connection; production runs on Linux).
const directSends = false

func sendNow(fd int, frame []byte) (n int, ok bool) { return 0, false } // never called
