package handlers

import "slices"

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
