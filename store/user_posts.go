package store

import (
	"context"
	"fmt"
	"time"
)

// UserPost is one of a person's forum posts, as their profile lists it.
type UserPost struct {
	ID          string    `db:"id"`
	ThreadID    string    `db:"thread_id"`
	ThreadTitle string    `db:"thread_title"`
	Status      string    `db:"status"`
	Content     string    `db:"content"` // Markdown source: the profile shows an excerpt
	CreatedAt   time.Time `db:"created_at"`
	// Page is the page of the thread the post is on, for the reader the
	// list was made for (moderators' pages include unpublished posts).
	Page int `db:"page"`
}

// UserPostPage is a page of a person's posts, newest first. Next is the
// following page's cursor, "" on the last; Total counts them all.
type UserPostPage struct {
	Posts []UserPost
	Next  string
	Total int
}

// UserPostsPerPage sizes a profile's list.
const UserPostsPerPage = 20

// UserPosts pages through what userID wrote in the organization's forums,
// newest first: published posts only, and for moderators (all) hidden
// ones too; deleted posts never. after is the previous page's Next ("" for
// the first page); a malformed one is a *ValidationError on field after.
func (s *Store) UserPosts(ctx context.Context, t Tenant, userID int64, all bool, after string) (UserPostPage, error) {
	var page UserPostPage
	c := &conds{}
	c.add(`p.author_type = 'human' AND p.author_id = ?`, idText(userID))
	c.add(`(p.status = 'published' OR (? AND p.status = 'hidden'))`, all)
	if err := s.DB.GetContext(ctx, &page.Total, t.SQL(`SELECT count(*) FROM {tenant}.forum_posts p`+c.sql()), c.args...); err != nil {
		return page, fmt.Errorf("count posts of user %d: %w", userID, err)
	}
	if err := c.afterTime("after", after, "p.created_at, p.id", "<"); err != nil {
		return page, err
	}
	// The page number counts the posts before this one in its thread as
	// the thread page orders and filters them (forum_posts_thread index).
	c.args = append(c.args, all, ForumPostsPerPage)
	n := len(c.args)
	where := c.sql()
	q := t.SQL(fmt.Sprintf(`SELECT p.id, p.thread_id, th.title AS thread_title, p.status, p.content, p.created_at,
		       (SELECT count(*) FROM {tenant}.forum_posts q WHERE q.thread_id = p.thread_id AND ($%d OR q.status = 'published')
		           AND (q.created_at, q.id) < (p.created_at, p.id)) / $%d + 1 AS page
		  FROM {tenant}.forum_posts p JOIN {tenant}.forum_threads th ON th.id = p.thread_id`, n-1, n) +
		where + ` ORDER BY p.created_at DESC, p.id DESC` + c.limit(UserPostsPerPage+1))
	if err := s.DB.SelectContext(ctx, &page.Posts, q, c.args...); err != nil {
		return page, fmt.Errorf("posts of user %d: %w", userID, err)
	}
	if len(page.Posts) > UserPostsPerPage {
		page.Posts = page.Posts[:UserPostsPerPage]
		last := page.Posts[UserPostsPerPage-1]
		page.Next = TimeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}
