package threadcache_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fleetprompt/handlers/threadcache"
)

// fakeSignals maps seqs to threads the way the store does from signal
// rows: the tests say which thread each seq is about ("*" is wide).
type fakeSignals struct {
	mu    sync.Mutex
	about map[int64]string
	calls atomic.Int64
	err   error
}

func (f *fakeSignals) threadsOf(_ context.Context, _ string, seqs []int64) (map[string]int64, bool, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, false, f.err
	}
	out := map[string]int64{}
	for _, s := range seqs {
		if f.about[s] == "*" {
			return nil, true, nil
		}
		out[f.about[s]] = max(out[f.about[s]], s)
	}
	return out, false, nil
}

func (f *fakeSignals) set(seq int64, thread string) {
	f.mu.Lock()
	f.about[seq] = thread
	f.mu.Unlock()
}

func newCache(t *testing.T, cfg threadcache.Config[string]) (*threadcache.Cache[string], *fakeSignals) {
	t.Helper()
	f := &fakeSignals{about: map[int64]string{}}
	if cfg.ThreadsOfFunc == nil {
		cfg.ThreadsOfFunc = f.threadsOf
	}
	if cfg.TTL == 0 {
		cfg.TTL = time.Hour
	}
	cfg.SizeFunc = func(v string) int { return len(v) }
	return threadcache.New(cfg), f
}

// counter is a loader that says how often it ran.
type counter struct{ n atomic.Int64 }

func (c *counter) load(v string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		c.n.Add(1)
		return v, nil
	}
}

func get(t *testing.T, c *threadcache.Cache[string], schema, thread string, l func(context.Context) (string, error)) string {
	t.Helper()
	v, err := c.Get(context.Background(), schema, thread, "p1", 0, l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A signal about thread A drops A's page and nothing else: not B's, not
// another tenant's.
func TestSignalDropsOnlyItsThread(t *testing.T) {
	c, f := newCache(t, threadcache.Config[string]{})
	var a, b, other counter
	get(t, c, "org_x", "A", a.load("a"))
	get(t, c, "org_x", "B", b.load("b"))
	get(t, c, "org_y", "A", other.load("ya"))
	f.set(7, "A")
	c.Signal("org_x", 7)
	get(t, c, "org_x", "A", a.load("a2"))
	get(t, c, "org_x", "B", b.load("b2"))
	get(t, c, "org_y", "A", other.load("ya2"))
	if a.n.Load() != 2 || b.n.Load() != 1 || other.n.Load() != 1 {
		t.Errorf("loads: A %d (want 2), B %d (want 1), other tenant %d (want 1)", a.n.Load(), b.n.Load(), other.n.Load())
	}
	// Signals noted meanwhile are mapped in one call.
	f.calls.Store(0)
	for s := int64(10); s < 20; s++ {
		f.set(s, "B")
		c.Signal("org_x", s)
	}
	get(t, c, "org_x", "A", a.load("a3"))
	if f.calls.Load() != 1 || a.n.Load() != 2 {
		t.Errorf("%d mappings, %d loads of A", f.calls.Load(), a.n.Load())
	}
}

// Concurrent misses of one page share one load.
func TestConcurrentMissesShareOneLoad(t *testing.T) {
	c, _ := newCache(t, threadcache.Config[string]{})
	var n atomic.Int64
	release := make(chan struct{})
	slow := func(context.Context) (string, error) {
		n.Add(1)
		<-release
		return "v", nil
	}
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if v, err := c.Get(context.Background(), "org_x", "A", "p1", 0, slow); err != nil || v != "v" {
				t.Errorf("got %q, %v", v, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all queue on the one load
	close(release)
	wg.Wait()
	if n.Load() != 1 {
		t.Errorf("%d loads for 32 concurrent misses", n.Load())
	}
}

// A load begun before its thread was dropped is returned to its callers
// but not kept, and a reader arriving after the drop does not join it.
func TestLoadRacingADropIsNotKept(t *testing.T) {
	c, f := newCache(t, threadcache.Config[string]{})
	var fresh counter
	for i, drop := range []func(){
		func() { f.set(1, "A"); c.Signal("org_x", 1) }, // another process's write
		func() { c.DropThread("org_x", "A", 0, 0) },    // a write here
	} {
		release, done := slowLoad(c, "stale")
		drop()
		want := "fresh" + strconv.Itoa(i)
		if v := get(t, c, "org_x", "A", fresh.load(want)); v != want {
			t.Errorf("%d: a reader after the drop got %q", i, v)
		}
		close(release)
		if v := <-done; v != "stale" {
			t.Errorf("%d: the first reader got %q", i, v)
		}
		if v := get(t, c, "org_x", "A", fresh.load("later")); v != want {
			t.Errorf("%d: after the racing load: %q, want %q", i, v, want)
		}
		c.DropThread("org_x", "A", 0, 0)
	}
}

// slowLoad starts a Get of thread A whose load returns v once release is
// closed; it returns when the load has begun.
func slowLoad(c *threadcache.Cache[string], v string) (release chan struct{}, done chan string) {
	started := make(chan struct{})
	release, done = make(chan struct{}), make(chan string)
	go func() {
		got, _ := c.Get(context.Background(), "org_x", "A", "p1", 0, func(context.Context) (string, error) {
			close(started)
			<-release
			return v, nil
		})
		done <- got
	}()
	<-started
	return release, done
}

// A wide signal (a category archived) and a failed mapping drop the whole
// tenant, fragments included; DropThread keeps the thread's fragments.
func TestWideSignalsAndFailuresDropTheTenant(t *testing.T) {
	c, f := newCache(t, threadcache.Config[string]{})
	var a, b counter
	frag := func(v string) func() (string, error) { return func() (string, error) { return v, nil } }
	get(t, c, "org_x", "A", a.load("a"))
	get(t, c, "org_x", "B", b.load("b"))
	c.Fragment("org_x", "A", "post-1", "v1", frag("one"))
	c.DropThread("org_x", "A", 0, 0)
	if got, _ := c.Fragment("org_x", "A", "post-1", "v1", frag("rendered again")); got != "one" {
		t.Errorf("DropThread lost the fragment memo: %q", got)
	}
	f.set(3, "*")
	c.Signal("org_x", 3)
	get(t, c, "org_x", "A", a.load("a"))
	get(t, c, "org_x", "B", b.load("b"))
	if a.n.Load() != 2 || b.n.Load() != 2 {
		t.Errorf("after a wide signal: loads A %d, B %d (want 2, 2)", a.n.Load(), b.n.Load())
	}
	if got, _ := c.Fragment("org_x", "A", "post-1", "v1", frag("rendered again")); got != "rendered again" {
		t.Errorf("a tenant reset kept the fragment: %q", got)
	}
	f.err = errors.New("database away")
	c.Signal("org_x", 4)
	get(t, c, "org_x", "B", b.load("b"))
	if b.n.Load() != 3 {
		t.Errorf("after a failed mapping: %d loads of B (want 3)", b.n.Load())
	}
}

// Pages expire; NoPages loads every time; a caller whose context ends
// while waiting for another's load gets its context's error.
func TestTTLNoPagesAndCancel(t *testing.T) {
	c, _ := newCache(t, threadcache.Config[string]{TTL: 20 * time.Millisecond})
	var a counter
	get(t, c, "org_x", "A", a.load("a"))
	get(t, c, "org_x", "A", a.load("a"))
	time.Sleep(30 * time.Millisecond)
	get(t, c, "org_x", "A", a.load("a"))
	if a.n.Load() != 2 {
		t.Errorf("%d loads across the TTL (want 2)", a.n.Load())
	}

	off, _ := newCache(t, threadcache.Config[string]{NoPages: true})
	var b counter
	get(t, off, "org_x", "A", b.load("b"))
	get(t, off, "org_x", "A", b.load("b"))
	if b.n.Load() != 2 {
		t.Errorf("NoPages: %d loads (want 2)", b.n.Load())
	}

	release := make(chan struct{})
	defer close(release)
	go c.Get(context.Background(), "org_x", "C", "p1", 0, func(context.Context) (string, error) { <-release; return "", nil })
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Get(ctx, "org_x", "C", "p1", 0, a.load("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting past the context: %v", err)
	}
}

// The byte bound drops everything rather than grow.
func TestMaxBytes(t *testing.T) {
	c, _ := newCache(t, threadcache.Config[string]{MaxBytes: 100})
	var a counter
	get(t, c, "org_x", "A", a.load(string(make([]byte, 60))))
	get(t, c, "org_x", "B", a.load(string(make([]byte, 60))))
	get(t, c, "org_x", "A", a.load(string(make([]byte, 60))))
	if a.n.Load() != 3 {
		t.Errorf("%d loads (want 3: the second page overflowed the bound)", a.n.Load())
	}
}

// A page loaded after a signal (at a seq at or past it) shows it: the
// signal, heard later, leaves that page alone. A reply's own signal does
// not drop the page its writer loaded after DropThread.
func TestSignalKeepsPagesLoadedAfterIt(t *testing.T) {
	f := &fakeSignals{about: map[int64]string{}}
	c := threadcache.New(threadcache.Config[string]{TTL: time.Hour, ThreadsOfFunc: f.threadsOf,
		SeqFunc: func(v string) int64 { n, _ := strconv.ParseInt(v, 10, 64); return n }})
	var a counter
	get(t, c, "org_x", "A", a.load("5")) // loaded at seq 5
	f.set(5, "A")
	c.Signal("org_x", 5) // heard after the load that already showed it
	get(t, c, "org_x", "A", a.load("6"))
	f.set(6, "A")
	c.Signal("org_x", 6)
	if v := get(t, c, "org_x", "A", a.load("6")); v != "6" || a.n.Load() != 2 {
		t.Errorf("got %q after %d loads, want 6 after 2", v, a.n.Load())
	}
}

// A slot keeps one version: a new version renders and replaces it.
func TestFragmentSlotsHoldOneVersion(t *testing.T) {
	c, _ := newCache(t, threadcache.Config[string]{})
	n := 0
	render := func() (string, error) { n++; return strconv.Itoa(n), nil }
	for _, v := range []string{"v1", "v1", "v2", "v2", "v1"} {
		c.Fragment("org_x", "A", "post-1", v, render)
	}
	if n != 3 {
		t.Errorf("%d renders for versions v1 v1 v2 v2 v1 (want 3)", n)
	}
}

// Has tells whether a slot holds a version, without rendering or making
// room for anything.
func TestHasSeesOnlyTheVersionKept(t *testing.T) {
	c, _ := newCache(t, threadcache.Config[string]{})
	if c.Has("org_x", "A", "post-1", "v1") {
		t.Fatal("an empty memo has v1")
	}
	c.Fragment("org_x", "A", "post-1", "v1", func() (string, error) { return "one", nil })
	if !c.Has("org_x", "A", "post-1", "v1") || c.Has("org_x", "A", "post-1", "v2") || c.Has("org_x", "B", "post-1", "v1") {
		t.Error("Has sees another version, thread or nothing")
	}
}
