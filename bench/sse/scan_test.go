package main

import (
	"sync/atomic"
	"testing"
)

// A marker is found once wherever the reads split the stream.
func TestScanFindsMarkersAcrossReads(t *testing.T) {
	g := &gen{sent: make([]atomic.Int64, 100), got: make([]atomic.Int64, 100)}
	g.hist.Store(newHistogram())
	for i := range g.sent {
		g.sent[i].Store(1)
	}
	r := &reader{g: g}
	msg := []byte("id: 5\ndata: <p>benchmsg 42</p> x benchmsg 7\n\nid: 6\ndata: benchmsg 99 \n\n")
	for cut := 0; cut <= len(msg); cut++ {
		for i := range g.got {
			g.got[i].Store(0)
		}
		c := &rconn{}
		r.scan(c, msg[:cut], 2)
		r.scan(c, msg[cut:], 2)
		if g.got[42].Load() != 1 || g.got[7].Load() != 1 || g.got[99].Load() != 1 {
			t.Fatalf("split at %d: found 42×%d 7×%d 99×%d", cut, g.got[42].Load(), g.got[7].Load(), g.got[99].Load())
		}
	}
}
