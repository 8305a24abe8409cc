package handlers

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
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

// viewer is who a page is resolved for.
type viewer struct {
	userID  string          // "" for the neutral viewer
	reacted map[string]bool // "<post>.<kind>"
}

func newViewer(userID int64, reacted map[string][]string) viewer {
	v := viewer{userID: strconv.FormatInt(userID, 10), reacted: map[string]bool{}}
	if userID == 0 {
		v.userID = ""
	}
	for post, kinds := range reacted {
		for _, k := range kinds {
			v.reacted[post+"."+k] = true
		}
	}
	return v
}

func (v viewer) holds(a condAtom) bool {
	var ok bool
	switch a.kind {
	case 'u':
		ok = v.userID != "" && a.arg == v.userID
	case 'r':
		ok = v.reacted[a.arg]
	}
	return ok != a.neg
}

func (v viewer) allows(conds []condAtom) bool {
	for _, a := range conds {
		if !v.holds(a) {
			return false
		}
	}
	return true
}

// condMarkup is the opening marker of atom s ("u42", "!r<post>.like").
func condMarkup(s string) template.HTML { return template.HTML(condOpen + s + condClose) }

// endMarkup closes the innermost condition.
const endMarkup = template.HTML(condEnd)

// userCond is the atom "the viewer is user id"; a user id of 0 (an
// agent's post, a thread nobody started) is nobody.
func userCond(id int64) string { return "u" + strconv.FormatInt(id, 10) }

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

// reactionPosts lists the posts whose reactions markup asks the viewer
// about: the viewer's own need reading only for those.
func reactionPosts(markup string) []string {
	seen := map[string]bool{}
	var out []string
	walkConds(markup, func(string, []condAtom) {}, func(arg string) {
		post, _, _ := strings.Cut(arg, ".")
		if !seen[post] {
			seen[post] = true
			out = append(out, post)
		}
	})
	return out
}

// viewerOf is the signed-in viewer of c, with their reactions to posts
// (read only when a page asks about some).
func (h *Handler) viewerOf(c *gin.Context, posts []string) (viewer, error) {
	a := authOf(c)
	if a == nil {
		return viewer{}, nil
	}
	var mine map[string][]string
	if len(posts) > 0 {
		var err error
		if mine, err = h.store.ViewerReactions(c.Request.Context(), tenant(c), a.Session.UserID, posts); err != nil {
			return viewer{}, err
		}
	}
	return newViewer(a.Session.UserID, mine), nil
}

// resolved renders block of the thread page's set with data, as c's
// viewer sees it: for fragments answered to one person (an htmx reply,
// a moderation's answer, an edit).
func (h *Handler) resolved(c *gin.Context, block string, data any) (string, error) {
	markup, err := h.renderBlock(block, data)
	if err != nil {
		return "", err
	}
	v, err := h.viewerOf(c, reactionPosts(markup))
	if err != nil {
		return "", err
	}
	return stampKeys(resolveFor(markup, v)), nil
}

// writeResolved writes resolved's markup (htmx answers).
func (h *Handler) writeResolved(c *gin.Context, status int, block string, data any) error {
	markup, err := h.resolved(c, block, data)
	if err != nil {
		return err
	}
	c.Header("Vary", "HX-Request")
	c.Data(status, "text/html; charset=utf-8", []byte(markup))
	return nil
}

// stampKeys gives markup rendered with key placeholders fresh keys.
func stampKeys(markup string) string {
	if !strings.Contains(markup, keyPlaceholder) {
		return markup
	}
	var ks keyStamp
	var b []byte
	for {
		i := strings.Index(markup, keyPlaceholder)
		if i < 0 {
			return string(append(b, markup...))
		}
		b = ks.append(append(b, markup[:i]...))
		markup = markup[i+len(keyPlaceholder):]
	}
}

// neutral resolves markup for the live layer, whose events every member
// shares: as a viewer who wrote none of it and chose no reaction.
func neutral(markup []byte) []byte {
	if !bytes.Contains(markup, []byte("<!--fpv:")) {
		return markup
	}
	return []byte(resolveFor(string(markup), viewer{}))
}
