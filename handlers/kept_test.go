package handlers

import (
	"testing"
	"time"
)

// A read that began before a drop is not stored over it; one that began
// after is. Entries older than the limit are not returned, and a full map
// starts again.
func TestKeptDropsWinOverOlderReads(t *testing.T) {
	k := newKept[string, int](time.Hour, 2)
	began := time.Now()
	k.put("a", 1, began)
	if v, ok := k.get("a"); !ok || v != 1 {
		t.Fatalf("get a = %d %v", v, ok)
	}
	k.drop("a")
	k.put("a", 2, began) // began before the drop: stale
	if _, ok := k.get("a"); ok {
		t.Error("a read that began before the drop was kept")
	}
	k.put("a", 3, time.Now())
	if v, ok := k.get("a"); !ok || v != 3 {
		t.Errorf("a read after the drop: %d %v", v, ok)
	}
	k.put("b", 1, time.Now())
	k.put("c", 1, time.Now()) // full: starts again
	if _, ok := k.get("a"); ok || len(k.m) != 1 {
		t.Errorf("a full map kept %d entries", len(k.m))
	}
	old := newKept[string, int](time.Millisecond, 8)
	old.put("x", 1, time.Now().Add(-time.Second))
	if _, ok := old.get("x"); ok {
		t.Error("an entry past its limit was returned")
	}
}
