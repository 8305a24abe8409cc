package handlers

import (
	"context"
	"html/template"
	"net/http"
	"strings"
	"time"

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
	if h.threads != nil && !h.hasFlashes(c) {
		return h.forumThreadCached(c)
	}
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
	cached, err := h.cachedThread(ctx, t, id, page, mod)
	if err != nil {
		return nil, err
	}
	// The cached posts hold key placeholders: this render's copy gets
	// fresh keys (a moderator's forms); the rest is shared, read-only.
	d := *cached
	if strings.Contains(string(d.Posts), keyPlaceholder) {
		var posts strings.Builder
		posts.Grow(len(d.Posts) + 256)
		stampKeys(&posts, string(d.Posts))
		d.Posts = template.HTML(posts.String()) //nolint:gosec // html/template's output
	}
	p := h.page(c, d.Thread.Title, &d)
	p.Form = f
	return p, nil
}

// cachedThread is loadThread through the thread cache (thread_cache.go).
func (h *Handler) cachedThread(ctx context.Context, t store.Tenant, id string, page int, mod bool) (*forumThreadData, error) {
	if h.threads == nil {
		return h.loadThread(ctx, t, id, page, mod)
	}
	schema, key := t.Schema(), threadCacheKey(id, page, mod)
	if d, ok := h.threads.get(schema, key); ok {
		return d, nil
	}
	epoch, at := h.threads.epoch.Load(), time.Now()
	d, err := h.loadThread(ctx, t, id, page, mod)
	if err != nil {
		return nil, err
	}
	h.threads.put(schema, key, d, epoch, at)
	return d, nil
}

// loadThread loads and renders the page's content; its posts keep their
// key placeholders (threadPage stamps them).
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
		f, err := h.postFragment(postView(p, mod))
		if err != nil {
			return nil, err
		}
		posts.WriteString(f)
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
