package live

import (
	"bytes"

	"github.com/r3labs/sse/v2"
)

// appendFrame appends ev as r3labs' ServeHTTP writes it with SplitData on
// (frame_test.go holds the two side by side). Every event a stream gets
// after the handshake is written as such a pre-encoded frame: one
// encoding per event and audience, shared read-only by every connection
// it is written to.
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
