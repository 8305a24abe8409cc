package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// forumThreadSolve is POST /forums/t/:id/solve (post_id): the thread's
// starter or a moderator marks a reply as its answer; 303 back to it.
func (h *Handler) forumThreadSolve(c *gin.Context) error {
	return h.solve(c, true)
}

// forumThreadUnsolve is POST /forums/t/:id/unsolve (post_id, the answer
// the form showed): takes the mark away; 303 back to the thread.
func (h *Handler) forumThreadUnsolve(c *gin.Context) error {
	return h.solve(c, false)
}

func (h *Handler) solve(c *gin.Context, mark bool) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	fn := h.store.UnsolveThread
	if mark {
		fn = h.store.SolveThread
	}
	res, err := fn(ctx, t, a.Session.UserID, a.Member.IsAdmin(), c.Param("id"), c.PostForm("post_id"))
	if v := (*store.ValidationError)(nil); asValidation(err, &v) {
		return h.refuse(c, v)
	} else if err != nil {
		return err
	}
	h.threadChanged(c, res.Thread.ID)
	switch {
	case !res.Changed:
	case mark:
		h.flash(c, "info", "Marked as the solution: it shows at the top of the thread.")
	default:
		h.flash(c, "info", "The thread is no longer marked solved.")
	}
	if res.Post.ID == "" {
		return redirect(c, "/forums/t/"+res.Thread.ID)
	}
	to, err := h.postLocation(ctx, t, res.Post, a.Member.IsAdmin())
	if err != nil {
		return err
	}
	return redirect(c, to)
}
