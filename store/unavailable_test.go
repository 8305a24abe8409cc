package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/lib/pq"
)

func TestUnavailableTellsOutagesFromMistakes(t *testing.T) {
	t.Parallel()
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, err := range []error{
		dial,
		fmt.Errorf("load session: %w", dial),
		driver.ErrBadConn,
		io.ErrUnexpectedEOF,
		syscall.ECONNRESET,
		context.DeadlineExceeded,
		&pq.Error{Code: "57P01"}, // admin shutdown
		&pq.Error{Code: "57P02"}, // crash shutdown
		&pq.Error{Code: "57P03"}, // cannot connect now (starting up)
		&pq.Error{Code: "08006"}, // connection failure
		&pq.Error{Code: "53300"}, // too many connections
		fmt.Errorf("begin: %w", &pq.Error{Code: "08001"}),
		errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"),
	} {
		if !Unavailable(err) {
			t.Errorf("Unavailable(%v) = false, want true", err)
		}
	}
	for _, err := range []error{
		nil,
		ErrNotFound,
		Invalid("x", "bad"),
		&pq.Error{Code: "23505"}, // unique violation
		&pq.Error{Code: "42601"}, // syntax error
		&pq.Error{Code: "22021"}, // invalid UTF-8
		context.Canceled,
		errors.New("something else"),
	} {
		if Unavailable(err) {
			t.Errorf("Unavailable(%v) = true, want false", err)
		}
	}
}
