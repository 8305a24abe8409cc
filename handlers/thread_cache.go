package handlers

import (
	"context"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

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
	seed  maphash.Seed // for fragment keys
	bufs  sync.Pool    // *[]byte: a page is assembled in one before its one write
}

// threadContent is one cached page: the "thread" block rendered for one
// page of posts, one audience and one audit cursor, with the title the
// layout around it shows. It is kept as the segments it is made of (the
// block's markup, each post and audit row as the memo holds it), so
// assembling it copies nothing, and writing it copies once.
type threadContent struct {
	threadID, title string
	seq             int64 // the tenant's latest signal when it was loaded
	segs            []segment
	bytes, keys     int
	// reactionPosts are the posts whose markup depends on the viewer's
	// reactions (forum_viewer.go): read per view, only when there are any.
	reactionPosts []string
}

// segment is markup to write, or (key) the place of a fresh idempotency
// key, shown to the viewers its conditions allow (forum_viewer.go).
type segment struct {
	s     string
	key   bool
	conds []condAtom
}

// add appends markup, split at its key placeholders and viewer
// conditions.
func (tc *threadContent) add(markup string) {
	walkConds(markup, func(s string, conds []condAtom) {
		for first := true; ; first = false {
			if !first {
				tc.segs = append(tc.segs, segment{key: true, conds: conds})
				tc.keys++
			}
			i := strings.Index(s, keyPlaceholder)
			piece := s
			if i >= 0 {
				piece = s[:i]
			}
			if piece != "" {
				tc.segs = append(tc.segs, segment{s: piece, conds: conds})
				tc.bytes += len(piece)
			}
			if i < 0 {
				return
			}
			s = s[i+len(keyPlaceholder):]
		}
	}, func(arg string) {
		post, _, _ := strings.Cut(arg, ".")
		if !slices.Contains(tc.reactionPosts, post) {
			tc.reactionPosts = append(tc.reactionPosts, post)
		}
	})
}

// appendTo appends the content as v sees it to b, with fresh keys.
func (tc *threadContent) appendTo(b []byte, v viewer) []byte {
	b = slices.Grow(b, tc.bytes+tc.keys*len(keyPlaceholder))
	var ks keyStamp
	for _, sg := range tc.segs {
		if len(sg.conds) > 0 && !v.allows(sg.conds) {
			continue
		}
		if sg.key {
			b = ks.append(b)
			continue
		}
		b = append(b, sg.s...)
	}
	return b
}

func (tc *threadContent) size() int { return len(tc.title) + len(tc.segs)*24 + tc.bytes }

// newThreadPages builds the layer for mode; nil for ThreadCacheOff. st maps
// a tenant's signals to the threads they touched.
func newThreadPages(mode ThreadCacheMode, withPages bool, st *store.Store) *threadPages {
	if mode == ThreadCacheOff {
		return nil
	}
	tp := &threadPages{seed: maphash.MakeSeed()}
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

// threadChanged drops the cached pages of thread after a write in this
// process, so the writer's next page shows it (other processes hear of it
// through the live hub).
func (h *Handler) threadChanged(c *gin.Context, threadID string) {
	if h.threads != nil {
		h.threads.cache.DropThread(tenant(c).Schema(), strings.ToLower(threadID))
	}
}

// threadsChanged drops every cached thread page of the tenant (a change
// all of them show, e.g. a category archived).
func (h *Handler) threadsChanged(c *gin.Context) {
	if h.threads != nil {
		h.threads.cache.DropTenant(tenant(c).Schema())
	}
}

// signal and dropAll are the live hub's Observer hooks (nil-safe).
func (tp *threadPages) signal(schema string, seq int64) {
	if tp != nil {
		tp.cache.Signal(schema, seq)
	}
}

func (tp *threadPages) dropAll() {
	if tp != nil {
		tp.cache.DropAll()
	}
}
