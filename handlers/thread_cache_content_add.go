package handlers

import (
	"slices"
	"strings"
)

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
