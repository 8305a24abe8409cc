package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// executionData is an execution's page: what was asked, the output (live
// while it runs), and everything an operator needs to debug it.
type executionData struct {
	Ex       store.Execution
	Logs     []store.ExecutionLog
	Cause    string // in words
	CauseURL string
	// Requester is who asked, when a person did.
	Requester string
	CanCancel bool
	Seq       int64 // the page's live cursor
}

// Running reports whether the output may still grow.
func (d executionData) Running() bool { return !d.Ex.Finished() }

// OutputHTML is the finished output rendered as Markdown.
func (d executionData) OutputHTML() any { return store.RenderMarkdown(d.Ex.Output) }

// execution is GET /executions/:id. A private one (a chat answer) is its
// owner's alone: anyone else gets 404.
func (h *Handler) execution(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	seq, err := h.store.LatestSignalSeq(ctx, t)
	if err != nil {
		return err
	}
	ex, err := h.store.Execution(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	if !ex.VisibleTo(a.Session.UserID) {
		return errNotFound
	}
	d, err := h.executionView(ctx, t, ex, a.Session.UserID, a.Member.IsAdmin())
	if err != nil {
		return err
	}
	d.Seq = seq
	return h.render(c, http.StatusOK, "execution", "content", h.page(c, "Run of "+ex.AgentName, d))
}
