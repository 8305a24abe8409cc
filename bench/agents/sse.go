package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
)

// readFrames reads a text/event-stream, calling fn with each frame's
// event name (empty for none), its data, and when its first line
// arrived, until fn returns false (then it returns nil) or the stream
// ends (io.ErrUnexpectedEOF, or the read error). The app's hub writes a
// frame's event: line after its data: lines, so only the whole frame
// says what the data is.
func readFrames(body io.Reader, fn func(event, data string, at time.Time) bool) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var event string
	var data strings.Builder
	var at time.Time
	for sc.Scan() {
		line := sc.Text()
		if at.IsZero() {
			at = time.Now()
		}
		switch {
		case line == "":
			if data.Len() > 0 && !fn(event, data.String(), at) {
				return nil
			}
			event, at = "", time.Time{}
			data.Reset()
		case strings.HasPrefix(line, "data: "):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(line[len("data: "):])
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

// stamp is a chunk's text: the time the fake provider made it, just
// before writing it.
func stamp(int) string { return "[" + strconv.FormatInt(time.Now().UnixNano(), 10) + "] " }

// stamps calls fn with every stamp in s.
func stamps(s string, fn func(ns int64)) {
	for {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			return
		}
		s = s[i+1:]
		j := strings.IndexByte(s, ']')
		if j != 19 {
			continue
		}
		if ns, err := strconv.ParseInt(s[:j], 10, 64); err == nil {
			fn(ns)
		}
		s = s[j+1:]
	}
}
