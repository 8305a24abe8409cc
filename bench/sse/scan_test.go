package main

import (
	"sync/atomic"
	"testing"
)

// Markers are found once wherever the reads split the stream, and an
// event whose id is not above the connection's last one is a duplicate
// whose markers do not count.
func TestScanFindsMarkersAcrossReads(t *testing.T) {
	g := &gen{sent: make([]atomic.Int64, 100), got: make([]atomic.Int64, 100), round: make([]atomic.Pointer[histogram], 1)}
	g.hist.Store(newHistogram())
	g.round[0].Store(newHistogram())
	g.per.Store(100)
	for i := range g.sent {
		g.sent[i].Store(1)
	}
	msg := []byte("id: 5\ndata: <p>benchmsg 42</p> x benchmsg 7\nevent: forum.post.created\n\n: keep-alive\n\n" +
		"id: 6\ndata: benchmsg 99 \n\nid: 6\ndata: benchmsg 98\n\n")
	for cut := 0; cut <= len(msg); cut++ {
		for i := range g.got {
			g.got[i].Store(0)
		}
		r := &reader{g: g}
		c := &rconn{}
		r.scan(c, msg[:cut], 2)
		r.scan(c, msg[cut:], 2)
		if g.got[42].Load() != 1 || g.got[7].Load() != 1 || g.got[99].Load() != 1 || g.got[98].Load() != 0 {
			t.Fatalf("split at %d: found 42×%d 7×%d 99×%d 98×%d", cut, g.got[42].Load(), g.got[7].Load(), g.got[99].Load(), g.got[98].Load())
		}
		if c.lastID != 6 || r.duplicates.Load() != 1 {
			t.Fatalf("split at %d: last id %d, %d duplicates", cut, c.lastID, r.duplicates.Load())
		}
	}
}
