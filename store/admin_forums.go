package store

import (
	"context"
	"fmt"
	"strings"
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
	var where []string
	var args []any
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("th.status = $%d", len(args)))
	}
	if f.CategoryID != "" {
		if !IsUUID(f.CategoryID) {
			return ThreadPage{}, Invalid("category_id", "is not a category")
		}
		args = append(args, f.CategoryID)
		where = append(where, fmt.Sprintf("th.category_id = $%d", len(args)))
	}
	if f.After != "" {
		at, id, err := parseTimeCursor("after", f.After)
		if err != nil {
			return ThreadPage{}, err
		}
		args = append(args, at, id)
		where = append(where, fmt.Sprintf("(th.created_at, th.id) < ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	q := threadSelect
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	q += fmt.Sprintf(` ORDER BY th.created_at DESC, th.id DESC LIMIT $%d`, len(args))
	var page ThreadPage
	if err := s.DB.SelectContext(ctx, &page.Threads, t.SQL(q), args...); err != nil {
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
	var where []string
	var args []any
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("p.status = $%d", len(args)))
	}
	if f.ThreadID != "" {
		if !IsUUID(f.ThreadID) {
			return PostPage{}, Invalid("thread_id", "is not a thread")
		}
		args = append(args, f.ThreadID)
		where = append(where, fmt.Sprintf("p.thread_id = $%d", len(args)))
	}
	if f.After != "" {
		at, id, err := parseTimeCursor("posts_after", f.After)
		if err != nil {
			return PostPage{}, err
		}
		args = append(args, at, id)
		where = append(where, fmt.Sprintf("(p.created_at, p.id) < ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	q := postSelect
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	q += fmt.Sprintf(` ORDER BY p.created_at DESC, p.id DESC LIMIT $%d`, len(args))
	var page PostPage
	if err := s.DB.SelectContext(ctx, &page.Posts, t.SQL(q), args...); err != nil {
		return page, fmt.Errorf("list posts: %w", err)
	}
	if len(page.Posts) > limit {
		page.Posts = page.Posts[:limit]
		last := page.Posts[limit-1]
		page.Next = TimeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}
