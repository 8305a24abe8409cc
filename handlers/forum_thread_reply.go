package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// forumReply posts a reply. Without JavaScript: 303 to the thread page
// anchored at the new post, or the page again with the message (422).
// With htmx: the new post's fragment, appended to #posts by the form's
// hx-target (and the form reset by app.js), or the form re-rendered in
// place with its message.
func (h *Handler) forumReply(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	a := authOf(c)
	body := c.PostForm("body")
	th, post, err := h.store.CreateForumReply(ctx, t, a.Session.UserID, c.Param("id"), body)
	var v *store.ValidationError
	if errors.As(err, &v) {
		f := views.NewForm()
		f.Values["body"] = body
		f.Errors = v.Fields
		d, err := h.threadData(ctx, t, c.Param("id"), lastPage, a.Member.IsAdmin(), store.AuditCursor{}, "")
		if err != nil {
			return err
		}
		p := &views.Page{Data: d, Form: f}
		if isHTMX(c) {
			// The form targets #posts for success; an invalid reply
			// replaces the form itself instead.
			c.Header("HX-Retarget", "#reply-form")
			c.Header("HX-Reswap", "outerHTML")
			return h.render(c, http.StatusUnprocessableEntity, "forum_thread", "reply_form", p)
		}
		tc, err := h.threadContent(t.Schema(), p)
		if err != nil {
			return err
		}
		return h.writeThread(c, http.StatusUnprocessableEntity, tc)
	} else if err != nil {
		return err
	}
	h.threadChanged(c, post.ThreadID)
	if isHTMX(c) {
		return h.fragment(c, "forum_thread", "forum_post", postView(post, a.Member.IsAdmin()))
	}
	// A member sees published posts only, and the reply is the newest of
	// those (later replies wait for its row lock): the thread's count,
	// this reply included, places it. Moderators also see the others.
	page := (th.PostCount-1)/store.ForumPostsPerPage + 1
	if a.Member.IsAdmin() {
		if page, err = h.store.PostPage(ctx, t, post, true); err != nil {
			return err
		}
	}
	return redirect(c, fmt.Sprintf("/forums/t/%s?page=%d#post-%s", post.ThreadID, page, post.ID))
}

// lastPage: ThreadPosts clamps a page past the end to the last page,
// where the reply form and the newest posts are.
const lastPage = math.MaxInt32
