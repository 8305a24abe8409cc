package handlers

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The thread page is read far more often than its thread changes, and
// loading it (thread, posts, audit trail: three queries and ~100 rows) was
// most of its cost. So each process keeps the page's loaded and rendered
// content — forumThreadData with the posts' fragments still holding their
// key placeholders — per (tenant schema, thread, page, audience), and a
// request only stamps fresh moderation keys and renders the layout around
// it. The seq in the entry is the one it was rendered at, so a stream
// resumed from it replays anything newer: never a gap.
//
// Staleness is bounded:
//   - every signal of a tenant (the live hub hears them all) drops that
//     tenant's entries, before the hub fans the signal out;
//   - any state-changing request in a tenant drops that tenant's entries
//     when it has finished (loadSession), so a writer's next page in this
//     process shows the write;
//   - an entry lives at most threadCacheTTL, the net for changes that emit
//     no signal (a user's new name) and for other processes' writes whose
//     NOTIFY has not arrived yet; the listener reconnecting clears all.
//
// Tenant isolation: the schema is part of the key, and an entry is only
// made by a load that succeeded in that schema, so a foreign thread id
// finds nothing and goes to the store, which answers 404.

const (
	threadCacheTTL = time.Second
	threadCacheMax = 2048
	// threadCacheBytes bounds the whole rendered pages kept (page_cache.go).
	threadCacheBytes = 32 << 20
)

type threadEntry struct {
	d *forumThreadData
	// page is a whole rendered page (one viewer's variant) split at its
	// key placeholders; see page_cache.go. Exactly one of d, page is set.
	page []string
	at   time.Time
}

type threadCache struct {
	epoch atomic.Uint64
	mu    sync.RWMutex
	m     map[string]map[string]threadEntry // schema → key → entry
	n     int
	bytes int // of the rendered pages held
}

func newThreadCache() *threadCache { return &threadCache{m: map[string]map[string]threadEntry{}} }

func threadCacheKey(id string, page int, mod bool) string {
	k := id + "/" + strconv.Itoa(page)
	if mod {
		k += "/m"
	}
	return k
}

func (tc *threadCache) get(schema, key string) (*forumThreadData, bool) {
	e, ok := tc.entry(schema, key)
	return e.d, ok && e.d != nil
}

func (tc *threadCache) entry(schema, key string) (threadEntry, bool) {
	tc.mu.RLock()
	e, ok := tc.m[schema][key]
	tc.mu.RUnlock()
	if !ok || time.Since(e.at) > threadCacheTTL {
		return threadEntry{}, false
	}
	return e, true
}

// put stores d, loaded after epoch was read, unless something was
// invalidated since.
func (tc *threadCache) put(schema, key string, d *forumThreadData, epoch uint64, at time.Time) {
	tc.store(schema, key, threadEntry{d: d, at: at}, epoch)
}

func (tc *threadCache) store(schema, key string, e threadEntry, epoch uint64) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.epoch.Load() != epoch {
		return
	}
	size := 0
	for _, seg := range e.page {
		size += len(seg)
	}
	if tc.n >= threadCacheMax || tc.bytes+size > threadCacheBytes {
		clear(tc.m)
		tc.n, tc.bytes = 0, 0
	}
	tc.bytes += size
	s := tc.m[schema]
	if s == nil {
		s = map[string]threadEntry{}
		tc.m[schema] = s
	}
	if old, in := s[key]; !in {
		tc.n++
	} else {
		for _, seg := range old.page {
			tc.bytes -= len(seg)
		}
	}
	s[key] = e
}

func (tc *threadCache) dropSchema(schema string) {
	tc.mu.Lock()
	tc.epoch.Add(1)
	for _, e := range tc.m[schema] {
		for _, seg := range e.page {
			tc.bytes -= len(seg)
		}
	}
	tc.n -= len(tc.m[schema])
	delete(tc.m, schema)
	tc.mu.Unlock()
}

func (tc *threadCache) dropAll() {
	tc.mu.Lock()
	tc.epoch.Add(1)
	clear(tc.m)
	tc.n, tc.bytes = 0, 0
	tc.mu.Unlock()
}
