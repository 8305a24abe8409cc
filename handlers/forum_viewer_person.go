package handlers

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

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
