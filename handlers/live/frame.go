package live

import (
	"bytes"

	"github.com/r3labs/sse/v2"
)

// appendFrame appends ev as r3labs' ServeHTTP writes it with SplitData on
// (frame_test.go holds the two side by side). Streams that have been
// handed over to the hub (see subscriber) get live events as these
// pre-encoded frames: one encoding per event and audience, shared
// read-only by every connection it is written to, instead of r3labs
// formatting it again, through two goroutines, for each connection.
func appendFrame(b []byte, ev *sse.Event) []byte {
	if len(ev.Data) > 0 {
		b = append(b, "id: "...)
		b = append(b, ev.ID...)
		b = append(b, '\n')
		data := ev.Data
		for {
			line, rest, more := bytes.Cut(data, []byte("\n"))
			b = append(b, "data: "...)
			b = append(b, line...)
			b = append(b, '\n')
			if !more {
				break
			}
			data = rest
		}
		if len(ev.Event) > 0 {
			b = append(b, "event: "...)
			b = append(b, ev.Event...)
			b = append(b, '\n')
		}
		if len(ev.Retry) > 0 {
			b = append(b, "retry: "...)
			b = append(b, ev.Retry...)
			b = append(b, '\n')
		}
	}
	if len(ev.Comment) > 0 {
		b = append(b, ": "...)
		b = append(b, ev.Comment...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

// endOfR3labs, published to a subscriber's private r3labs stream, makes
// r3labs' ServeHTTP return without writing anything (it stops at an event
// with neither data nor comment): the replay is over and the hub writes
// to the connection from then on.
var endOfR3labs = &sse.Event{}
