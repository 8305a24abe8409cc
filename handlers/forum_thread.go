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

	posts, audit []string // the fragments
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
		return h.threadContent(t.Schema(), &views.Page{Data: d, Form: views.NewForm()})
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
	th, schema := v.Thread, t.Schema()
	d := &forumThreadData{Thread: th, Status: threadStatusView{Thread: th, Moderator: mod, placeholderKeys: true},
		Pager: v.Pager, Moderator: mod, Seq: v.Seq, AuditEarlier: v.Audit.Earlier, AuditBefore: audit,
		Solution: threadSolutionView{ThreadID: th.ID, Solution: v.Solution},
		Posts:    postsMark, Audit: auditMark,
		posts: make([]string, 0, len(v.Posts)), audit: make([]string, 0, len(v.Audit.Entries))}
	for _, p := range v.Posts {
		f, err := h.postFragment(schema, postView(p, th, mod))
		if err != nil {
			return nil, err
		}
		d.posts = append(d.posts, f)
	}
	for _, e := range v.Audit.Entries {
		f, err := h.auditFragment(schema, th.ID, e)
		if err != nil {
			return nil, err
		}
		d.audit = append(d.audit, f)
	}
	return d, nil
}

// threadContent renders p's "thread" block (p.Data a *forumThreadData)
// and joins its posts and audit rows into it: a page the cache can keep.
// With an empty form, the block is the same for every view until the
// thread changes, so it comes from the fragment memo too (frameKey).
func (h *Handler) threadContent(schema string, p *views.Page) (*threadContent, error) {
	d := p.Data.(*forumThreadData)
	render := func() (string, error) {
		var buf bytes.Buffer
		err := h.views.Render(&buf, "forum_thread", "thread", p)
		return buf.String(), err
	}
	var frame string
	var err error
	if h.threads == nil || p.Form.Invalid() || len(p.Form.Values) > 0 {
		frame, err = render()
	} else {
		slot := "frame " + threadKey(d.Pager.Page, d.Moderator, d.AuditBefore)
		frame, err = h.threads.cache.Fragment(schema, d.Thread.ID, slot, frameKey(d), render)
	}
	if err != nil {
		return nil, err
	}
	head, rest, _ := strings.Cut(frame, postsMark)
	mid, tail, _ := strings.Cut(rest, auditMark)
	tc := &threadContent{threadID: d.Thread.ID, title: d.Thread.Title, seq: d.Seq}
	tc.add(head)
	for _, f := range d.posts {
		tc.add(f)
	}
	tc.add(mid)
	for _, f := range d.audit {
		tc.add(f)
	}
	tc.add(tail)
	return tc, nil
}

// writeThread writes tc with fresh keys: alone for htmx, else inside the
// layout of this request's page (layoutAround). The page is assembled in
// one buffer and leaves in one write.
func (h *Handler) writeThread(c *gin.Context, status int, tc *threadContent) error {
	var head, tail string
	if !isHTMX(c) {
		var err error
		if head, tail, err = h.layoutAround(c, tc); err != nil {
			return err
		}
	}
	v, err := h.viewerOf(c, tc.reactionPosts)
	if err != nil {
		return err
	}
	buf := h.pageBuffer()
	b := append((*buf)[:0], head...)
	b = tc.appendTo(b, v)
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
