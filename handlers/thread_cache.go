package handlers

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"fleetprompt/handlers/threadcache"
	"fleetprompt/store"
)

// ThreadCacheMode is what the thread page keeps between requests.
type ThreadCacheMode int

const (
	// ThreadCacheOn keeps each thread's rendered pages, dropped per thread
	// when it changes (threadcache), and the fragments they are made of
	// (posts, audit rows, the block around them, the viewer's layout).
	// Pages are kept only with a live hub, which tells this process of
	// other processes' writes. The default.
	ThreadCacheOn ThreadCacheMode = iota
	// ThreadCacheFragments keeps only the fragments: every view reads the
	// thread from PostgreSQL and assembles the page (what a view costs
	// after its thread changed: bench/http's miss mode).
	ThreadCacheFragments
	// ThreadCacheOff keeps nothing: every view renders everything
	// (bench/http's cold mode).
	ThreadCacheOff
)

// threadPages is the thread page's one cache layer (threadcache) and what
// writing a page from it needs.
type threadPages struct {
	cache *threadcache.Cache[*threadContent]
	bufs  sync.Pool // *[]byte: a page is assembled in one before its one write
}

// newThreadPages builds the layer for mode; nil for ThreadCacheOff. st maps
// a tenant's signals to the threads they touched.
func newThreadPages(mode ThreadCacheMode, withPages bool, st *store.Store) *threadPages {
	if mode == ThreadCacheOff {
		return nil
	}
	tp := &threadPages{}
	tp.bufs.New = func() any { b := make([]byte, 0, 128<<10); return &b }
	tp.cache = threadcache.New(threadcache.Config[*threadContent]{
		NoPages:  mode != ThreadCacheOn || !withPages,
		SizeFunc: (*threadContent).size,
		SeqFunc:  func(tc *threadContent) int64 { return tc.seq },
		ThreadsOfFunc: func(ctx context.Context, schema string, seqs []int64) (map[string]int64, bool, error) {
			// The SQL names only the schema: the slug is all a Tenant
			// needs for that.
			return st.ThreadsOfSignals(ctx, store.Tenant{Slug: strings.TrimPrefix(schema, "org_")}, seqs)
		},
	})
	return tp
}

// threadKey names one cached page of a thread.
func threadKey(page int, mod bool, audit string) string {
	k := strconv.Itoa(page)
	if mod {
		k += "/m"
	}
	return k + "/" + audit
}
