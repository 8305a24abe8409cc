package handlers

import (
	"html/template"
	"strconv"
	"strings"
)

// A thread page is rendered once per audience (members, moderators) and
// kept (thread_cache.go), yet a few of its parts belong to one viewer:
// the Edit link on your own posts, the solve buttons for the thread's
// starter, which reactions you chose, no reacting to or flagging your own
// post. Those parts are wrapped in viewer conditions, HTML comments the
// escapers never produce from user text:
//
//	<!--fpv:if u42-->…<!--fpv:end-->       the viewer is user 42
//	<!--fpv:if !u42-->…<!--fpv:end-->      anyone else
//	<!--fpv:if r<post>.like-->…             the viewer reacted "like" to <post>
//
// Conditions nest. Every markup that reaches a browser passes through one
// viewer's resolution first (appendTo for cached pages, resolveFor for
// fragments answered directly); live events, shared by every member, are
// resolved for a viewer who wrote nothing and chose nothing (neutral).

const (
	condOpen  = "<!--fpv:if "
	condClose = "-->"
	condEnd   = "<!--fpv:end-->"
)

// condAtom is one test of a condition: viewer is user arg (u), or reacted
// arg = "<post>.<kind>" (r), negated or not.
type condAtom struct {
	neg  bool
	kind byte
	arg  string
}

func parseAtom(s string) condAtom {
	a := condAtom{}
	if strings.HasPrefix(s, "!") {
		a.neg, s = true, s[1:]
	}
	if s != "" {
		a.kind, a.arg = s[0], s[1:]
	}
	return a
}

// condMarkup is the opening marker of atom s ("u42", "!r<post>.like").
func condMarkup(s string) template.HTML { return template.HTML(condOpen + s + condClose) }

// endMarkup closes the innermost condition.
const endMarkup = template.HTML(condEnd)

// userCond is the atom "the viewer is user id"; a user id of 0 (an
// agent's post, a thread nobody started) is nobody.
func userCond(id int64) string { return "u" + strconv.FormatInt(id, 10) }
