package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// The figure is only as good as its parsing: frames as the hub writes
// them (event after data, comments, several data lines), and every stamp
// in a frame found once.
func TestReadFramesAndStamps(t *testing.T) {
	s1, s2 := stamp(0), stamp(1)
	stream := ": heartbeat\n\n" +
		"id: 7\ndata: <span hx-swap-oob=\"beforeend:#exec-1-output\">" + s1 + "</span>\nevent: agent.output.delta\n\n" +
		"id: 8\ndata: <span>" + s1 + s2 + "</span>\ndata: [not a stamp] [123]\nevent: agent.output.snapshot\n\n" +
		"data: [DONE]\n\n"
	type frame struct {
		event string
		n     int
	}
	var got []frame
	err := readFrames(strings.NewReader(stream), func(event, data string, at time.Time) bool {
		n := 0
		stamps(data, func(ns int64) {
			if d := at.Sub(time.Unix(0, ns)); d < 0 || d > time.Minute {
				t.Errorf("stamp %d is %v before the frame", ns, d)
			}
			n++
		})
		got = append(got, frame{event, n})
		return data != "[DONE]"
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []frame{{"agent.output.delta", 1}, {"agent.output.snapshot", 2}, {"", 0}}
	if len(got) != len(want) {
		t.Fatalf("frames %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frame %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if err := readFrames(strings.NewReader("data: x\n"), func(string, string, time.Time) bool { return true }); err != io.ErrUnexpectedEOF {
		t.Errorf("a stream cut short: %v", err)
	}
}
