package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// forumReply posts a reply. Without JavaScript: 303 to the thread page
// anchored at the new post, or the page again with the message (422; 429
// past the posting limit). With htmx: the new post's fragment, appended
// to #posts by the form's hx-target (and the form reset by app.js), with
// the form's next idempotency key swapped in out of band, or the form
// re-rendered in place with its message. The form's idempotency_key makes
// a resent form answer with the post it already made.
func (h *Handler) forumReply(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	a := authOf(c)
	c.Set(sessionUnchanged, true) // a reply grants nothing: the session stays cached
	body, key := c.PostForm("body"), c.PostForm("idempotency_key")
	wait, err := h.postingWait(c)
	if err != nil {
		return err
	}
	if wait > 0 {
		// Unless this form already made its post: then it is answered
		// with that post, below.
		if _, _, err := h.store.ReplyByKey(ctx, t, a.Session.UserID, c.Param("id"), key); errors.Is(err, store.ErrNotFound) {
			if _, err := h.store.ForumThread(ctx, t, c.Param("id")); err != nil {
				return err
			}
			return h.replyRefused(c, tooFast(c, wait), body, store.Invalid("", h.tooFastMessage(wait)))
		} else if err != nil {
			return err
		}
	}
	r, err := h.store.CreateForumReplyOnce(ctx, t, a.Session.UserID, c.Param("id"), body, key)
	if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		return h.replyRefused(c, http.StatusUnprocessableEntity, body, v)
	} else if err != nil {
		return err
	}
	th, post := r.Thread, r.Post
	h.threadChangedAt(c, post.ThreadID, r.Seq)
	if isHTMX(c) {
		markup, err := h.resolved(c, "forum_post", postView(post, th, a.Member.IsAdmin()))
		if err != nil {
			return err
		}
		c.Header("Vary", "HX-Request")
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.Status(http.StatusOK)
		c.Writer.WriteString(markup)
		return h.views.Render(c.Writer, "forum_thread", "reply_key", replyKey{Key: newModerationKey(), OOB: true})
	}
	// A member sees published posts only, and a new reply is the newest of
	// those (later replies wait for its row lock): the thread's count,
	// this reply included, places it. Moderators also see the others, and
	// a resent form's reply may have others after it.
	page := (th.PostCount-1)/store.ForumPostsPerPage + 1
	if a.Member.IsAdmin() || !r.Created {
		if page, err = h.store.PostPage(ctx, t, post, true); err != nil {
			return err
		}
	}
	return redirect(c, fmt.Sprintf("/forums/t/%s?page=%d#post-%s", post.ThreadID, page, post.ID))
}

// lastPage: ThreadPosts clamps a page past the end to the last page,
// where the reply form and the newest posts are.
const lastPage = math.MaxInt32
