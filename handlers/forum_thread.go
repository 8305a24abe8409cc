package handlers

import (
	"context"
	"html/template"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// forumThreadData is the thread page's "thread" block: status, one page
// of posts, the reply form (in Page.Form), one page of the audit trail,
// and the seq the page was rendered at, which its live stream resumes
// from.
type forumThreadData struct {
	Thread store.ForumThread
	Status threadStatusView
	// Posts and Audit mark where the posts' and audit rows' fragments go
	// (postsMark, auditMark): they are rendered and kept one by one, and
	// joined to the block's own markup when the page is assembled.
	Posts     template.HTML
	Pager     store.Pager
	Audit     template.HTML
	Moderator bool
	Seq       int64
	// Solution is the answer shown at the top of a solved thread.
	Solution threadSolutionView
	// AuditEarlier is the cursor of the trail's previous page ("" at its
	// start); AuditBefore is this page's ("" for the latest).
	AuditEarlier, AuditBefore string

	posts, audit []*fragmentSegs // the fragments, split
}

const (
	postsMark = "<!--fp:posts-->"
	auditMark = "<!--fp:audit-->"
)

// forumThread is GET /forums/t/:id?page=&audit_before=: the thread page,
// from the thread cache (thread_cache.go) when it holds it.
func (h *Handler) forumThread(c *gin.Context) error {
	audit := c.Query("audit_before")
	before, err := store.ParseAuditCursor("audit_before", audit)
	if err != nil {
		return err
	}
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	id, page, mod := c.Param("id"), pageParam(c), a.Member.IsAdmin()
	if !store.IsUUID(id) {
		return store.ErrNotFound
	}
	load := func(ctx context.Context) (*threadContent, error) {
		d, err := h.threadData(ctx, t, id, page, mod, before, audit)
		if err != nil {
			return nil, err
		}
		return h.threadContent(t.Schema(), &views.Page{Data: d, Form: views.NewForm()})
	}
	var tc *threadContent
	if h.threads == nil {
		tc, err = load(ctx)
	} else {
		tc, err = h.threads.cache.Get(ctx, t.Schema(), strings.ToLower(id), threadKey(page, mod, audit), a.Session.UserID, load)
	}
	if err != nil {
		return err
	}
	return h.writeThread(c, http.StatusOK, tc)
}
