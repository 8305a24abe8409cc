package handlers

import (
	"html/template"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// The layout around a cached thread page (the header with the viewer's
// name and organizations, the nav, the footer) was, once the content came
// from the cache, most of what a page view still cost: the header runs
// ~600 small template calls through reflection. It depends only on the
// viewer and the page's title and path, so the thread cache's fragment
// memo keeps it too, in the viewer's slot, versioned by exactly that
// (shellKey), with the content's place marked (contentMark). A page with flash messages is rendered
// normally: those are shown once.
//
// shellKey must name everything layout.html and header.html read from
// the Page besides Data and Form: whoever gives the header more to show
// adds it here, or that page's header would not change.

// threadShell is the "content" block of the forum_thread page: the
// rendered "thread" block, put into the layout as it is.
type threadShell struct {
	Content template.HTML
}

// contentMark stands for the content in a layout rendered around cached
// content: a comment the escapers would never produce from user text.
const contentMark = "<!--fp:thread-content-->"

// layoutAround returns the layout of this request's page around tc's
// content, split at the content's place.
func (h *Handler) layoutAround(c *gin.Context, tc *threadContent) (head, tail string, err error) {
	p := h.page(c, tc.title, threadShell{Content: contentMark})
	render := func() (string, error) {
		var b strings.Builder
		err := h.views.Render(&b, "forum_thread", "layout", p)
		return b.String(), err
	}
	var layout string
	if h.threads == nil || len(p.Flashes) > 0 || p.User == nil {
		layout, err = render()
	} else {
		slot := "shell " + strconv.FormatInt(p.User.ID, 10)
		layout, err = h.threads.cache.Fragment(tenant(c).Schema(), tc.threadID, slot, shellKey(p), render)
	}
	if err != nil {
		return "", "", err
	}
	head, tail, _ = strings.Cut(layout, contentMark)
	return head, tail, nil
}
