package threadcache_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"fleetprompt/handlers/threadcache"
)

// getAs is one reader's Get of thread A's page "p1", failing the test if
// it has to wait for a load (within) instead of being served at once.
func getAs(t *testing.T, c *threadcache.Cache[string], viewer int64, within time.Duration) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return c.Get(ctx, "org_x", "A", "p1", viewer, func(context.Context) (string, error) {
		return "", errors.New("this reader should not have loaded")
	})
}

// While a dropped page reloads, the reader who started the reload waits
// for it and the others get the previous page at once.
func TestReadersDuringAReloadGetThePreviousPage(t *testing.T) {
	c, _ := newCache(t, threadcache.Config[string]{})
	var n counter
	get(t, c, "org_x", "A", n.load("v1"))
	c.DropThread("org_x", "A", 0, 0)
	release, done := slowLoad(c, "v2")
	if v, err := getAs(t, c, 8, time.Second); v != "v1" || err != nil {
		t.Errorf("a reader during the reload: %q, %v (want the previous page)", v, err)
	}
	close(release)
	if v := <-done; v != "v2" {
		t.Errorf("the reader who reloaded got %q", v)
	}
	if v := get(t, c, "org_x", "A", n.load("v3")); v != "v2" || n.n.Load() != 1 {
		t.Errorf("after the reload: %q after %d loads (want v2 kept)", v, n.n.Load())
	}
}

// A writer is never shown a page loaded before their write: they wait for
// the reload that shows it, while others get the previous page. A later
// previous page that has their write is theirs to see.
func TestAWriterIsNotShownThePreviousPage(t *testing.T) {
	c, _ := newCache(t, threadcache.Config[string]{})
	var n counter
	get(t, c, "org_x", "A", n.load("v1"))
	c.DropThread("org_x", "A", 7, 0)
	release, done := slowLoad(c, "v2")
	if v, _ := getAs(t, c, 8, time.Second); v != "v1" {
		t.Errorf("another reader: %q, want v1", v)
	}
	if _, err := getAs(t, c, 7, 30*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the writer was not kept waiting for the reload: %v", err)
	}
	writer := make(chan string)
	go func() { v, _ := getAs(t, c, 7, time.Second); writer <- v }()
	time.Sleep(10 * time.Millisecond)
	close(release)
	if v := <-writer; v != "v2" {
		t.Errorf("the writer got %q, want the reloaded v2", v)
	}
	<-done

	c.DropThread("org_x", "A", 0, 0) // v2, loaded after 7's write, is now the previous page
	release, done = slowLoad(c, "v3")
	if v, err := getAs(t, c, 7, time.Second); v != "v2" || err != nil {
		t.Errorf("the writer during a later reload: %q, %v (want v2)", v, err)
	}
	close(release)
	<-done
}

// Previous pages are served within the TTL only, and a tenant reset (the
// hub reconnecting: signals may have been missed) forgets them; so does a
// thread that has forgotten a writer.
func TestPreviousPagesExpireAndResetsForgetThem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(c *threadcache.Cache[string])
	}{
		{"past the TTL", func(*threadcache.Cache[string]) { time.Sleep(60 * time.Millisecond) }},
		{"after DropAll", func(c *threadcache.Cache[string]) { c.DropAll() }},
		{"too many writers", func(c *threadcache.Cache[string]) {
			for w := int64(2); w <= 400; w++ {
				c.DropThread("org_x", "A", w, 0)
			}
		}},
	} {
		c, _ := newCache(t, threadcache.Config[string]{TTL: 50 * time.Millisecond})
		var n counter
		get(t, c, "org_x", "A", n.load("v1"))
		c.DropThread("org_x", "A", 1, 0)
		tc.before(c)
		release, done := slowLoad(c, "v2")
		if v, err := getAs(t, c, 1, 20*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: served %q, %v (want a wait for the reload)", tc.name, v, err)
		}
		close(release)
		<-done
	}
}

// A reader who finds the tenant's signals being mapped takes the page as
// it was; the reader who maps waits, and its next load shows the change.
func TestAReaderDoesNotWaitForAMappingUnderWay(t *testing.T) {
	mapping, gate := make(chan struct{}, 1), make(chan struct{})
	c, _ := newCache(t, threadcache.Config[string]{
		ThreadsOfFunc: func(context.Context, string, []int64) (map[string]int64, bool, error) {
			mapping <- struct{}{}
			<-gate
			return map[string]int64{"A": 5}, false, nil
		},
	})
	var n counter
	get(t, c, "org_x", "A", n.load("v1"))
	c.Signal("org_x", 5)
	mapper := make(chan string)
	go func() { mapper <- get(t, c, "org_x", "A", n.load("v2")) }()
	<-mapping
	if v, err := getAs(t, c, 8, time.Second); v != "v1" || err != nil {
		t.Errorf("a reader during the mapping: %q, %v (want the page as it was)", v, err)
	}
	close(gate)
	if v := <-mapper; v != "v2" {
		t.Errorf("the reader who mapped got %q, want the reloaded v2", v)
	}
}

// seqCache is a cache whose pages say the seq they were read at: "v@12".
func seqCache(t *testing.T) *threadcache.Cache[string] {
	c, _ := newCache(t, threadcache.Config[string]{SeqFunc: func(v string) int64 {
		_, s, _ := strings.Cut(v, "@")
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}})
	return c
}

// The replies of one batch each drop their thread, for the batch's last
// seq: the first drop reloads the page, and the others leave the reload
// (begun after the batch) and the page it keeps alone.
func TestABatchDropsItsThreadOnce(t *testing.T) {
	c := seqCache(t)
	var n counter
	get(t, c, "org_x", "A", n.load("v@10"))
	c.DropThread("org_x", "A", 1, 12)
	release, done := slowLoad(c, "v@12")
	c.DropThread("org_x", "A", 2, 12)
	c.DropThread("org_x", "A", 3, 12)
	close(release)
	<-done
	if v := get(t, c, "org_x", "A", n.load("v@13")); v != "v@12" || n.n.Load() != 1 {
		t.Errorf("after the batch's drops: %q after %d more loads (want the reload kept)", v, n.n.Load()-1)
	}
	for w := int64(1); w <= 3; w++ {
		if v, err := getAs(t, c, w, time.Second); v != "v@12" || err != nil {
			t.Errorf("writer %d: %q, %v", w, v, err)
		}
	}
}

// A load begun before a drop of known seq is kept when it read past that
// seq; a writer's reply while a load is under way sends them to a load of
// their own (the one under way may predate it), which is the one kept.
func TestALoadThatReadPastTheDropIsKept(t *testing.T) {
	c := seqCache(t)
	release, done := slowLoad(c, "v@6")
	c.DropThread("org_x", "A", 0, 5) // committed before the load read
	close(release)
	<-done
	var n counter
	if v := get(t, c, "org_x", "A", n.load("v@7")); v != "v@6" || n.n.Load() != 0 {
		t.Errorf("%q after %d loads: the load that read past the drop was not kept", v, n.n.Load())
	}

	c.DropThread("org_x", "A", 0, 0) // a change of unknown seq: every page, every load
	release, done = slowLoad(c, "v@7")
	c.DropThread("org_x", "A", 9, 8) // writer 9's reply, while the load is under way
	writer := make(chan string)
	go func() {
		v, _ := c.Get(context.Background(), "org_x", "A", "p1", 9, n.load("v@8"))
		writer <- v
	}()
	if v := <-writer; v != "v@8" {
		t.Errorf("the writer got %q, want their own load's v@8", v)
	}
	close(release)
	if v := <-done; v != "v@7" {
		t.Errorf("the first reader got %q", v)
	}
	if v := get(t, c, "org_x", "A", n.load("v@9")); v != "v@8" {
		t.Errorf("after both loads: %q, want the writer's v@8 kept", v)
	}
}
