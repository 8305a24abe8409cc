package handlers

import (
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// adminForumsData is the forums page: categories, threads and posts, each
// with its moderation forms. The forms post to the forum's own routes
// (moderation goes through directives there) with a fresh idempotency key
// and redirect_to pointing back here.
type adminForumsData struct {
	Categories []store.ForumCategory
	Threads    []store.ForumThread
	Posts      []store.ForumPost
	// PostsNext and PostsFirst page the posts (posts_after); the view's
	// Next and First page the threads (after).
	PostsNext, PostsFirst string
	ThreadStatuses        []string
	PostStatuses          []string
	// OpenFlags counts the posts waiting in the moderation queue.
	OpenFlags int
}

// NewKey is a fresh idempotency key for one moderation form.
func (adminForumsData) NewKey() string { return newIdempotencyKey() }

// Excerpt is the start of a post, for the table.
func (adminForumsData) Excerpt(p store.ForumPost) string {
	s := strings.Join(strings.Fields(p.Content), " ")
	if utf8.RuneCountInString(s) <= 100 {
		return s
	}
	return string([]rune(s)[:100]) + "…"
}

// adminForums is GET /admin/forums?thread_status=&category_id=&after=&post_status=&thread_id=&posts_after=.
func (h *Handler) adminForums(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	v := newAdminView(c, "forums")
	d := adminForumsData{
		ThreadStatuses: []string{store.ThreadOpen, store.ThreadLocked, store.ThreadArchived},
		PostStatuses:   []string{store.PostPublished, store.PostHidden, store.PostDeleted},
	}
	var err error
	if d.Categories, err = h.store.ForumCategories(ctx, t); err != nil {
		return err
	}
	if d.OpenFlags, err = h.store.OpenFlaggedPosts(ctx, t); err != nil {
		return err
	}
	threads, err := h.store.AdminThreads(ctx, t, store.ThreadFilter{Status: v.Q("thread_status"), CategoryID: v.Q("category_id"), After: v.Q("after"), Limit: v.Limit()})
	if err != nil {
		return err
	}
	posts, err := h.store.AdminPosts(ctx, t, store.PostFilter{Status: v.Q("post_status"), ThreadID: v.Q("thread_id"), After: v.Q("posts_after"), Limit: v.Limit()})
	if err != nil {
		return err
	}
	d.Threads, d.Posts = threads.Threads, posts.Posts
	v.pageLinks("/admin/forums", "after", threads.Next)
	pv := &adminView{Query: v.Query}
	pv.pageLinks("/admin/forums", "posts_after", posts.Next)
	d.PostsNext, d.PostsFirst = pv.Next, pv.First
	v.List = d
	return h.adminRender(c, "admin_forums", "Forums", v)
}
