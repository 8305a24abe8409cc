package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
)

// Unavailable reports whether err means the database could not be reached
// or went away (restart, crash, failover, network): a passing condition
// that a retry a few seconds later may not meet, as opposed to a mistake
// in the request or the code. Handlers answer it with 503 and Retry-After.
//
// database/sql retries a statement on another connection when lib/pq says
// driver.ErrBadConn before anything was sent, and replaces dead idle
// connections by itself, so the app recovers on its own once the server
// is back; what reaches here is what happened while it was gone.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch code := string(pqErr.Code); {
		case strings.HasPrefix(code, "08"): // connection exception
			return true
		case code == "57P01", code == "57P02", code == "57P03": // admin shutdown, crash shutdown, cannot connect now
			return true
		case code == "53300": // too many connections
			return true
		}
		return false
	}
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		// A statement or dial that ran out of time: the server is down or
		// too slow to answer.
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "bad connection") ||
		strings.Contains(msg, "server closed the connection")
}
