package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/views"
)

// A thread page is read again and again by the same people while its
// thread does not change, and executing its templates — the layout, the
// status, the pager, the reply form around the cached post fragments —
// was most of what a cached thread still cost. So the thread cache also
// keeps whole rendered pages, one per viewer variant, split at their
// moderation-key placeholders; a hit writes the parts with fresh keys in
// between, and executes no template at all.
//
// The variant key holds everything the page shows besides the thread:
// the viewer (id, name, email), the organization and role they act as,
// the organizations in the header's switcher, and whether htmx asked for
// the fragment. A request carrying flash messages is rendered normally
// (flashes are shown once). Entries share the thread cache's invalidation:
// any signal of the tenant, any write in it in this process, and at most
// threadCacheTTL.

// pageVariant names what, besides the thread itself, a rendered page
// depends on.
func pageVariant(c *gin.Context, block string) string {
	a := authOf(c)
	var b strings.Builder
	b.WriteString(block)
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(a.Session.UserID, 10))
	b.WriteByte(0)
	b.WriteString(a.Session.Name)
	b.WriteByte(0)
	b.WriteString(a.Session.Email)
	b.WriteByte(0)
	b.WriteString(strconv.FormatInt(a.Member.OrgID, 10))
	b.WriteString(a.Member.Role)
	for _, m := range a.Session.Memberships {
		b.WriteByte(0)
		b.WriteString(m.OrgSlug)
		b.WriteByte(' ')
		b.WriteString(m.OrgName)
		b.WriteByte(' ')
		b.WriteString(m.Role)
	}
	return b.String()
}

// hasFlashes reports whether a flash message waits for this request.
func (h *Handler) hasFlashes(c *gin.Context) bool {
	v, ok := h.cookieSession(c).Values["_flash"]
	if !ok {
		return false
	}
	fl, ok := v.([]any)
	return !ok || len(fl) > 0
}

// forumThreadCached serves GET /forums/t/:id from a whole rendered page
// when it can, rendering and keeping one otherwise.
func (h *Handler) forumThreadCached(c *gin.Context) error {
	t := tenant(c)
	id, page := c.Param("id"), pageParam(c)
	mod := authOf(c).Member.IsAdmin()
	block := "layout"
	if isHTMX(c) {
		block = "content"
	}
	schema := t.Schema()
	key := threadCacheKey(id, page, mod) + "\x01" + pageVariant(c, block)
	if e, ok := h.threads.entry(schema, key); ok && e.page != nil {
		return writeStamped(c, e.page)
	}
	epoch, at := h.threads.epoch.Load(), time.Now()
	d, err := h.cachedThread(c.Request.Context(), t, id, page, mod)
	if err != nil {
		return err
	}
	dd := *d // the posts keep their placeholders; so do the status forms
	dd.Status.placeholderKeys = true
	p := h.page(c, dd.Thread.Title, &dd)
	p.Form = views.NewForm()
	var buf strings.Builder
	if err := h.views.Render(&buf, "forum_thread", block, p); err != nil {
		return err
	}
	parts := strings.Split(buf.String(), keyPlaceholder)
	h.threads.store(schema, key, threadEntry{page: parts, at: at}, epoch)
	return writeStamped(c, parts)
}

// writeStamped writes a page's parts with a fresh idempotency key between
// each two, assembled first so the page leaves in one write: a moderator's
// page has a placeholder per form, and part-by-part writes cost a system
// call per few kilobytes.
func writeStamped(c *gin.Context, parts []string) error {
	size := (len(parts) - 1) * len(keyPlaceholder)
	for _, part := range parts {
		size += len(part)
	}
	bp := pageBufs.Get().(*[]byte)
	defer pageBufs.Put(bp)
	buf := slices.Grow((*bp)[:0], size)
	for i, part := range parts {
		if i > 0 {
			buf = append(buf, newModerationKey()...)
		}
		buf = append(buf, part...)
	}
	*bp = buf
	c.Header("Vary", "HX-Request")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf) // written before Put
	return nil
}

var pageBufs = sync.Pool{New: func() any { b := make([]byte, 0, 128<<10); return &b }}
