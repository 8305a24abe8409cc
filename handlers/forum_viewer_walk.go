package handlers

import "strings"

// walkConds calls text for each run of markup outside the markers, with
// the conditions around it, and reactions for each reaction atom seen.
func walkConds(markup string, text func(s string, conds []condAtom), reaction func(arg string)) {
	var stack []condAtom
	for markup != "" {
		i := strings.Index(markup, "<!--fpv:")
		if i < 0 {
			text(markup, stack)
			return
		}
		if i > 0 {
			text(markup[:i], stack)
		}
		markup = markup[i:]
		switch {
		case strings.HasPrefix(markup, condEnd):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			markup = markup[len(condEnd):]
		case strings.HasPrefix(markup, condOpen):
			j := strings.Index(markup, condClose)
			if j < 0 {
				text(markup, stack)
				return
			}
			a := parseAtom(markup[len(condOpen):j])
			if a.kind == 'r' && reaction != nil {
				reaction(a.arg)
			}
			stack = append(stack[:len(stack):len(stack)], a)
			markup = markup[j+len(condClose):]
		default: // not a marker of ours: plain text
			text(markup[:1], stack)
			markup = markup[1:]
		}
	}
}

// resolveFor is markup as v sees it: its viewer conditions applied.
func resolveFor(markup string, v viewer) string {
	if !strings.Contains(markup, "<!--fpv:") {
		return markup
	}
	var b strings.Builder
	b.Grow(len(markup))
	walkConds(markup, func(s string, conds []condAtom) {
		if v.allows(conds) {
			b.WriteString(s)
		}
	}, nil)
	return b.String()
}
