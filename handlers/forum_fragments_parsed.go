package handlers

import (
	"slices"
	"strings"
	"unsafe"
)

// A page is assembled from its fragments split at their key placeholders
// and viewer conditions (threadContent.add). Splitting scans every byte
// of the fragment for markers, and a page missed by the cache (after a
// reply, every reader's next view) did it for all 170 KB of the page on
// every assembly. The split depends on the markup alone, so the memo
// keeps it beside the fragment (threadcache.FragmentParsed): a version
// is split once, and a page copies its segments.

// fragmentSegs is a fragment split as threadContent keeps it. Its
// segments share the fragment's markup and are never modified.
type fragmentSegs struct {
	segs          []segment
	bytes, keys   int
	reactionPosts []string
}

func parseSegs(markup string) *fragmentSegs {
	var tc threadContent
	tc.add(markup)
	return &fragmentSegs{segs: tc.segs, bytes: tc.bytes, keys: tc.keys, reactionPosts: tc.reactionPosts}
}

// size is what fs adds to the memo beside the markup it shares.
func (fs *fragmentSegs) size() int {
	n := len(fs.segs) * int(unsafe.Sizeof(segment{}))
	for _, sg := range fs.segs {
		n += len(sg.conds) * int(unsafe.Sizeof(condAtom{}))
	}
	return n + len(fs.reactionPosts)*16
}

// parsedSegs is parseSegs for the memo.
func parsedSegs(markup string) (any, int) {
	fs := parseSegs(markup)
	return fs, fs.size()
}

// addSegs appends a split fragment.
func (tc *threadContent) addSegs(fs *fragmentSegs) {
	tc.segs = append(tc.segs, fs.segs...)
	tc.bytes += fs.bytes
	tc.keys += fs.keys
	for _, p := range fs.reactionPosts {
		if !slices.Contains(tc.reactionPosts, p) {
			tc.reactionPosts = append(tc.reactionPosts, p)
		}
	}
}

// frameSegs is the "thread" block split around its posts and audit rows
// (postsMark, auditMark).
type frameSegs struct{ head, mid, tail *fragmentSegs }

func parseFrame(frame string) *frameSegs {
	head, rest, _ := strings.Cut(frame, postsMark)
	mid, tail, _ := strings.Cut(rest, auditMark)
	return &frameSegs{head: parseSegs(head), mid: parseSegs(mid), tail: parseSegs(tail)}
}

func parsedFrame(frame string) (any, int) {
	fs := parseFrame(frame)
	return fs, fs.head.size() + fs.mid.size() + fs.tail.size()
}

// fragmentSegs is the memo's fragment in slot (threadcache.Fragment),
// split; without a memo, render's markup split.
func (h *Handler) fragmentSegs(schema, threadID, slot, version string, render func() (string, error)) (*fragmentSegs, error) {
	if h.threads == nil {
		m, err := render()
		if err != nil {
			return nil, err
		}
		return parseSegs(m), nil
	}
	_, v, err := h.threads.cache.FragmentParsed(schema, threadID, slot, version, render, parsedSegs)
	if err != nil {
		return nil, err
	}
	return v.(*fragmentSegs), nil
}
