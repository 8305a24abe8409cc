package handlers

import (
	"html"
	"strings"

	"fleetprompt/store"
)

// threadSolutionView is the data of the "thread_solution" block: a
// solved thread's answer, shown at the top of its page. The block is
// always there (empty while unsolved), so a live event can fill it.
type threadSolutionView struct {
	ThreadID string
	Solution *store.SolvedPost
}

// Excerpt is the start of the answer as plain text.
func (v threadSolutionView) Excerpt() string {
	if v.Solution == nil {
		return ""
	}
	return excerpt(stripTags(string(v.Solution.Post.HTML())), 280)
}

// stripTags is the text of safe HTML (the renderer's own output):
// tags dropped, the escapes it writes undone.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}
