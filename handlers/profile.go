package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// profile is GET /u/:handle?after=. Someone who is not a member of the
// current organization is 404, exactly like a handle nobody has: a
// profile never tells who belongs to another organization. Members see
// published posts; moderators also hidden ones; nobody deleted ones.
func (h *Handler) profile(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	u, err := h.store.UserByHandle(ctx, c.Param("handle"))
	if err != nil {
		return err
	}
	m, err := h.store.MemberByUserID(ctx, t.OrgID, u.ID)
	if err != nil {
		return err
	}
	if m.Status != store.StatusActive && m.Status != store.StatusDisabled {
		return store.ErrNotFound
	}
	if c.Param("handle") != u.Handle { // /u/@Ana → /u/ana
		to := "/u/" + u.Handle
		if q := c.Request.URL.RawQuery; q != "" {
			to += "?" + q
		}
		c.Redirect(http.StatusMovedPermanently, to)
		return nil
	}
	posts, err := h.store.UserPosts(ctx, t, u.ID, a.Member.IsAdmin(), c.Query("after"))
	var v *store.ValidationError
	if errors.As(err, &v) {
		return store.Invalid("after", "the page link is broken: start from the first page") // a hand-edited cursor
	} else if err != nil {
		return err
	}
	p := profilePage{Name: u.Name, Handle: u.Handle, Role: m.Role, Status: m.Status, Since: m.CreatedAt,
		IsSelf: u.ID == a.Session.UserID, Total: posts.Total}
	for _, post := range posts.Posts {
		p.Posts = append(p.Posts, profilePost{
			URL:         fmt.Sprintf("/forums/t/%s?page=%d#post-%s", post.ThreadID, post.Page, post.ID),
			ThreadTitle: post.ThreadTitle, Excerpt: excerpt(post.Content, 240),
			Hidden: post.Status != store.PostPublished, CreatedAt: post.CreatedAt,
		})
	}
	if posts.Next != "" {
		p.Next = "/u/" + u.Handle + "?after=" + url.QueryEscape(posts.Next)
	}
	// "Older posts" with htmx appends the next page in place of its link.
	return h.render(c, http.StatusOK, "profile", "profile_posts", h.page(c, u.Name+" (@"+u.Handle+")", p))
}
