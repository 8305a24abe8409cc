package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/handlers/live"
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

func (h *Handler) executionView(ctx context.Context, t store.Tenant, ex store.Execution, viewer int64, admin bool) (executionData, error) {
	d := executionData{Ex: ex, Cause: causeText(ex)}
	var err error
	if d.Logs, err = h.store.ExecutionLogs(ctx, t, ex.ID); err != nil {
		return d, err
	}
	if ex.RequestedBy != 0 {
		names, err := h.store.UserNames(ctx, []int64{ex.RequestedBy})
		if err != nil {
			return d, err
		}
		d.Requester = names[ex.RequestedBy]
	}
	c := ex.Context()
	switch {
	case c.RunID != "":
		d.CauseURL = "/workflows/runs/" + c.RunID
	case c.ThreadID != "":
		d.CauseURL = "/forums/t/" + c.ThreadID
	case ex.Purpose == store.PurposeChat:
		d.CauseURL = "/chat/" + c.ConversationID
	}
	d.CanCancel = !ex.Finished() && (admin || ex.RequestedBy == viewer)
	return d, nil
}

func causeText(ex store.Execution) string {
	switch ex.CauseType {
	case "user":
		return "Run by hand"
	case "chat_message":
		return "A chat message"
	case "signal":
		return "A signal"
	case "workflow_step":
		return "A workflow step"
	case "api_key":
		return "The API"
	case "forum_post":
		return "A forum post"
	case "directive":
		if ex.Purpose == store.PurposeTest {
			return "A deployment check"
		}
		return "A directive"
	}
	return ex.CauseType
}

// executionCancel is POST /executions/:id/cancel: the person who asked,
// or an owner or admin, stops a run; the worker stops at its next save.
func (h *Handler) executionCancel(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	ex, err := h.store.Execution(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	if !ex.VisibleTo(a.Session.UserID) {
		return errNotFound
	}
	if !a.Member.IsAdmin() && ex.RequestedBy != a.Session.UserID {
		return store.ErrForbidden
	}
	if _, err := h.store.CancelExecution(ctx, t, ex.ID); errors.Is(err, store.ErrConflict) {
		h.flash(c, "info", "The run had already finished.")
	} else if err != nil {
		return err
	}
	if h.engine != nil {
		h.engine.Cancel(ex.ID)
	}
	return redirect(c, "/executions/"+ex.ID)
}

// registerExecutionLive renders an execution's outcome on its page: the
// whole panel again, finished.
func (h *Handler) registerExecutionLive() {
	h.live.Render("agent.execution.", func(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
		var p struct {
			ID string `json:"execution_id"`
		}
		json.Unmarshal(sig.Payload, &p)
		ex, err := h.store.Execution(ctx, t, p.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		d, err := h.executionView(ctx, t, ex, 0, false)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := h.views.Render(&buf, "execution", "execution_panel", d); err != nil {
			return nil, err
		}
		return []live.Fragment{{Kind: live.KindExecution, HTML: buf.Bytes()}}, nil
	})
}
