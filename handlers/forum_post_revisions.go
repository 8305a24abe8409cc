package handlers

import (
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// forumPostRevisionsData is the history page.
type forumPostRevisionsData struct {
	Post      store.ForumPost
	Thread    store.ForumThread
	Revisions []revisionView
}

type revisionView struct {
	store.PostRevision
	Body template.HTML
}

// forumPostRevisions is GET /forums/posts/:id/revisions: every version
// of a post members can read (moderators: of any post).
func (h *Handler) forumPostRevisions(c *gin.Context) error {
	p, th, err := h.editablePost(c)
	if err != nil {
		return err
	}
	revs, err := h.store.PostRevisions(c.Request.Context(), tenant(c), p)
	if err != nil {
		return err
	}
	d := forumPostRevisionsData{Post: p, Thread: th}
	for _, r := range revs {
		d.Revisions = append(d.Revisions, revisionView{PostRevision: r, Body: template.HTML(r.HTML)}) //nolint:gosec // the renderer's output, stored
	}
	return h.render(c, http.StatusOK, "forum_post_revisions", "content", h.page(c, "History of a post", d))
}
