package handlers

import (
	"context"

	"fleetprompt/store"
)

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
