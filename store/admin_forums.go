package store

import (
	"context"
	"fmt"
)

// ThreadFilter selects threads for the admin's forum table; empty fields
// do not filter.
type ThreadFilter struct {
	Status     string // open, locked or archived (the thread's own status)
	CategoryID string
	After      string // cursor from the previous page's Next
	Limit      int    // default 50, at most 200
}

// ThreadPage is one page of threads, newest first; Next is "" on the last.
type ThreadPage struct {
	Threads []ForumThread
	Next    string
}

// AdminThreads pages through the tenant's threads, newest first.
func (s *Store) AdminThreads(ctx context.Context, t Tenant, f ThreadFilter) (ThreadPage, error) {
	limit := clampLimit(f.Limit, 200)
	var c conds
	c.eq("th.status", f.Status)
	if f.CategoryID != "" {
		if !IsUUID(f.CategoryID) {
			return ThreadPage{}, Invalid("category_id", "is not a category")
		}
		c.eq("th.category_id", f.CategoryID)
	}
	if err := c.afterTime("after", f.After, "th.created_at, th.id", "<"); err != nil {
		return ThreadPage{}, err
	}
	q := threadSelect + c.sql() + ` ORDER BY th.created_at DESC, th.id DESC` + c.limit(limit+1)
	var page ThreadPage
	if err := s.DB.SelectContext(ctx, &page.Threads, t.SQL(q), c.args...); err != nil {
		return page, fmt.Errorf("list threads: %w", err)
	}
	if len(page.Threads) > limit {
		page.Threads = page.Threads[:limit]
		last := page.Threads[limit-1]
		page.Next = TimeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// PostFilter selects posts for the admin's forum table; empty fields do
// not filter.
type PostFilter struct {
	Status   string // published, hidden or deleted
	ThreadID string
	After    string // cursor from the previous page's Next
	Limit    int    // default 50, at most 200
}

// PostPage is one page of posts, newest first; Next is "" on the last.
type PostPage struct {
	Posts []ForumPost
	Next  string
}

// AdminPosts pages through the tenant's posts of every status, newest
// first: moderators see hidden and deleted ones too.
func (s *Store) AdminPosts(ctx context.Context, t Tenant, f PostFilter) (PostPage, error) {
	limit := clampLimit(f.Limit, 200)
	var c conds
	c.eq("p.status", f.Status)
	if f.ThreadID != "" {
		if !IsUUID(f.ThreadID) {
			return PostPage{}, Invalid("thread_id", "is not a thread")
		}
		c.eq("p.thread_id", f.ThreadID)
	}
	if err := c.afterTime("posts_after", f.After, "p.created_at, p.id", "<"); err != nil {
		return PostPage{}, err
	}
	q := postSelect + c.sql() + ` ORDER BY p.created_at DESC, p.id DESC` + c.limit(limit+1)
	var page PostPage
	if err := s.DB.SelectContext(ctx, &page.Posts, t.SQL(q), c.args...); err != nil {
		return page, fmt.Errorf("list posts: %w", err)
	}
	if len(page.Posts) > limit {
		page.Posts = page.Posts[:limit]
		last := page.Posts[limit-1]
		page.Next = TimeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}
