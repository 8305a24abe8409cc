package handlers

import (
	"bytes"
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
	// Posts and Audit are the rendered "forum_post" and "audit_row"
	// blocks, one after the other (see forum_fragments.go).
	Posts     template.HTML
	Pager     store.Pager
	Audit     template.HTML
	Moderator bool
	Seq       int64
	// AuditEarlier is the cursor of the trail's previous page ("" at its
	// start); AuditBefore is this page's ("" for the latest).
	AuditEarlier, AuditBefore string
}

// forumThread is GET /forums/t/:id?page=&audit_before=: the thread page,
// from the thread cache (thread_cache.go) when it holds it.
func (h *Handler) forumThread(c *gin.Context) error {
	audit := c.Query("audit_before")
	before, err := store.ParseAuditCursor("audit_before", audit)
	if err != nil {
		return err
	}
	ctx, t := c.Request.Context(), tenant(c)
	id, page, mod := c.Param("id"), pageParam(c), authOf(c).Member.IsAdmin()
	if !store.IsUUID(id) {
		return store.ErrNotFound
	}
	load := func(ctx context.Context) (*threadContent, error) {
		d, err := h.threadData(ctx, t, id, page, mod, before, audit)
		if err != nil {
			return nil, err
		}
		p := &views.Page{Data: d, Form: views.NewForm()}
		return h.threadContent(p)
	}
	var tc *threadContent
	if h.threads == nil {
		tc, err = load(ctx)
	} else {
		tc, err = h.threads.cache.Get(ctx, t.Schema(), strings.ToLower(id), threadKey(page, mod, audit), load)
	}
	if err != nil {
		return err
	}
	return h.writeThread(c, http.StatusOK, tc)
}

// threadData loads the thread page's data and renders its posts and
// audit rows (through the fragment memo). Moderators (owner, admin) get
// hidden and deleted posts as placeholders; members never get them.
func (h *Handler) threadData(ctx context.Context, t store.Tenant, id string, page int, mod bool,
	before store.AuditCursor, audit string) (*forumThreadData, error) {
	// The seq is read with the thread, before the posts and the audit
	// trail: an event racing this render is sent again at worst (and
	// skipped by element id), never lost.
	v, err := h.store.ForumThreadPage(ctx, t, id, mod, page, before)
	if err != nil {
		return nil, err
	}
	schema := t.Schema()
	var posts, rows strings.Builder
	posts.Grow(len(v.Posts) * 1536)
	for _, p := range v.Posts {
		f, err := h.postFragment(schema, postView(p, mod))
		if err != nil {
			return nil, err
		}
		posts.WriteString(f)
	}
	for _, e := range v.Audit.Entries {
		f, err := h.auditFragment(schema, v.Thread.ID, e)
		if err != nil {
			return nil, err
		}
		rows.WriteString(f)
	}
	th := v.Thread
	return &forumThreadData{Thread: th, Status: threadStatusView{Thread: th, Moderator: mod, placeholderKeys: true},
		Pager: v.Pager, Moderator: mod, Seq: v.Seq, AuditEarlier: v.Audit.Earlier, AuditBefore: audit,
		Posts: template.HTML(posts.String()), Audit: template.HTML(rows.String())}, nil //nolint:gosec // html/template's output
}

// threadContent renders p's "thread" block (p.Data a *forumThreadData)
// into a page the cache can keep: split at its key placeholders.
func (h *Handler) threadContent(p *views.Page) (*threadContent, error) {
	var buf bytes.Buffer
	if err := h.views.Render(&buf, "forum_thread", "thread", p); err != nil {
		return nil, err
	}
	d := p.Data.(*forumThreadData)
	return &threadContent{threadID: d.Thread.ID, title: d.Thread.Title, parts: strings.Split(buf.String(), keyPlaceholder)}, nil
}

// writeThread writes tc with fresh keys: alone for htmx, else inside the
// layout rendered for this request (the viewer's header, flashes). The
// page is assembled in one buffer and leaves in one write.
func (h *Handler) writeThread(c *gin.Context, status int, tc *threadContent) error {
	var head, tail string
	if !isHTMX(c) {
		var err error
		if head, tail, err = h.layoutAround(c, tc); err != nil {
			return err
		}
	}
	buf := h.pageBuffer()
	b := append((*buf)[:0], head...)
	b = stampKeys(b, tc.parts)
	b = append(b, tail...)
	*buf = b
	c.Header("Vary", "HX-Request")
	c.Data(status, "text/html; charset=utf-8", b)
	h.putPageBuffer(buf) // c.Data has written it
	return nil
}

func (h *Handler) pageBuffer() *[]byte {
	if h.threads != nil {
		return h.threads.bufs.Get().(*[]byte)
	}
	return new([]byte)
}

func (h *Handler) putPageBuffer(b *[]byte) {
	if h.threads != nil && cap(*b) <= 1<<20 {
		h.threads.bufs.Put(b)
	}
}
