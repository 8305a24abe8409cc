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
// hx-target (and the form reset by app.js), with the form's next
// idempotency key swapped in out of band, or the form re-rendered in
// place with its message. The form's idempotency_key makes a resent form
// answer with the post it already made.
func (h *Handler) forumReply(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	a := authOf(c)
	body := c.PostForm("body")
	th, post, created, err := h.store.CreateForumReplyOnce(ctx, t, a.Session.UserID, c.Param("id"), body, c.PostForm("idempotency_key"))
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
		// A post already on the page (a resent form) is not added again
		// (app.js drops an element whose id is present).
		if err := h.fragment(c, "forum_thread", "forum_post", postView(post, a.Member.IsAdmin())); err != nil {
			return err
		}
		return h.views.Render(c.Writer, "forum_thread", "reply_key", replyKey{Key: newModerationKey(), OOB: true})
	}
	// A member sees published posts only, and a new reply is the newest of
	// those (later replies wait for its row lock): the thread's count,
	// this reply included, places it. Moderators also see the others, and
	// a resent form's reply may have others after it.
	page := (th.PostCount-1)/store.ForumPostsPerPage + 1
	if a.Member.IsAdmin() || !created {
		if page, err = h.store.PostPage(ctx, t, post, true); err != nil {
			return err
		}
	}
	return redirect(c, fmt.Sprintf("/forums/t/%s?page=%d#post-%s", post.ThreadID, page, post.ID))
}

// lastPage: ThreadPosts clamps a page past the end to the last page,
// where the reply form and the newest posts are.
const lastPage = math.MaxInt32
