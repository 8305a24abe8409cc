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
)

type threadEntry struct {
	d  *forumThreadData
	at time.Time
}

type threadCache struct {
	epoch atomic.Uint64
	mu    sync.RWMutex
	m     map[string]map[string]threadEntry // schema → key → entry
	n     int
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
	tc.mu.RLock()
	e, ok := tc.m[schema][key]
	tc.mu.RUnlock()
	if !ok || time.Since(e.at) > threadCacheTTL {
		return nil, false
	}
	return e.d, true
}

// put stores d, loaded after epoch was read, unless something was
// invalidated since.
func (tc *threadCache) put(schema, key string, d *forumThreadData, epoch uint64, at time.Time) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.epoch.Load() != epoch {
		return
	}
	if tc.n >= threadCacheMax {
		clear(tc.m)
		tc.n = 0
	}
	s := tc.m[schema]
	if s == nil {
		s = map[string]threadEntry{}
		tc.m[schema] = s
	}
	if _, in := s[key]; !in {
		tc.n++
	}
	s[key] = threadEntry{d: d, at: at}
}

func (tc *threadCache) dropSchema(schema string) {
	tc.mu.Lock()
	tc.epoch.Add(1)
	tc.n -= len(tc.m[schema])
	delete(tc.m, schema)
	tc.mu.Unlock()
}

func (tc *threadCache) dropAll() {
	tc.mu.Lock()
	tc.epoch.Add(1)
	clear(tc.m)
	tc.n = 0
	tc.mu.Unlock()
}
