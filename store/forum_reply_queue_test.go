package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeyedSemaphoreBoundsEachKeyAndForgetsIdleKeys(t *testing.T) {
	k := keyedSemaphore{m: map[string]*semaphoreEntry{}}
	var in, peak atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := k.acquire(context.Background(), "a", 2)
			if err != nil {
				t.Error(err)
				return
			}
			n := in.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(time.Millisecond)
			in.Add(-1)
			release()
		}()
	}
	// Another key is not held up by a busy one.
	release, err := k.acquire(context.Background(), "b", 1)
	if err != nil {
		t.Fatal(err)
	}
	release()
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("peak %d holders of a key with 2 slots", p)
	}
	if len(k.m) != 0 {
		t.Errorf("%d idle keys kept", len(k.m))
	}
}

func TestKeyedSemaphoreWaiterLeavesWhenItsContextEnds(t *testing.T) {
	k := keyedSemaphore{m: map[string]*semaphoreEntry{}}
	release, _ := k.acquire(context.Background(), "a", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.acquire(ctx, "a", 1); err == nil {
		t.Fatal("a canceled waiter got the slot")
	}
	release()
	if len(k.m) != 0 {
		t.Errorf("%d idle keys kept", len(k.m))
	}
}
