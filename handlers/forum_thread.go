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

// forumThreadData is the thread page: status, one page of posts, the
// reply form (in Page.Form), the audit trail, and the seq the page was
// rendered at, which its live stream resumes from.
type forumThreadData struct {
	Thread store.ForumThread
	Status threadStatusView
	// Posts and Audit are the rendered "forum_post" and "audit_row"
	// blocks, one after the other (see forum_fragments.go).
	Posts     template.HTML
	Pager     store.Pager
	Audit     template.HTML
	Moderator bool
	Seq       int64
}

func (h *Handler) forumThread(c *gin.Context) error {
	p, err := h.threadPage(c, c.Param("id"), pageParam(c), views.NewForm())
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "forum_thread", "content", p)
}

// threadPage loads everything the thread page shows. Moderators (owner,
// admin) get hidden and deleted posts as placeholders; members never get
// them.
func (h *Handler) threadPage(c *gin.Context, id string, page int, f *views.Form) (*views.Page, error) {
	ctx, t := c.Request.Context(), tenant(c)
	mod := authOf(c).Member.IsAdmin()
	d, err := h.loadThread(ctx, t, id, page, mod)
	if err != nil {
		return nil, err
	}
	p := h.page(c, d.Thread.Title, d)
	p.Form = f
	return p, nil
}

func (h *Handler) loadThread(ctx context.Context, t store.Tenant, id string, page int, mod bool) (*forumThreadData, error) {
	// The seq is read with the thread, before the posts and the audit
	// trail: an event racing this render is sent again at worst (and
	// skipped by element id), never lost.
	v, err := h.store.ForumThreadPage(ctx, t, id, mod, page)
	if err != nil {
		return nil, err
	}
	th := v.Thread
	var posts, audit strings.Builder
	posts.Grow(len(v.Posts) * 2048)
	for _, p := range v.Posts {
		if err := h.writePostFragment(&posts, postView(p, mod)); err != nil {
			return nil, err
		}
	}
	for _, e := range v.Audit {
		f, err := h.auditFragment(e)
		if err != nil {
			return nil, err
		}
		audit.WriteString(f)
	}
	d := &forumThreadData{Thread: th, Status: threadStatusView{Thread: th, Moderator: mod}, Pager: v.Pager, Moderator: mod, Seq: v.Seq,
		Posts: template.HTML(posts.String()), Audit: template.HTML(audit.String())} //nolint:gosec // html/template's output
	return d, nil
}
