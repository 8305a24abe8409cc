package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

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
