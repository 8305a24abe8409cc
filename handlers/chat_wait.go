package handlers

import (
	"context"
	"time"

	"fleetprompt/store"
)

// waitAnswer waits up to d for an answer to finish (whichever worker
// writes it), so a quick one is on the page a plain post lands on.
func (h *Handler) waitAnswer(ctx context.Context, t store.Tenant, conversationID, msgID string, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		m, err := h.store.ChatMessage(ctx, t, conversationID, msgID)
		if err != nil || !m.Streaming() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitSettled waits up to d for runs to record their outcome.
func (h *Handler) waitSettled(ctx context.Context, t store.Tenant, runs []string, d time.Duration) {
	deadline := time.Now().Add(d)
	for _, id := range runs {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			ex, err := h.store.Execution(ctx, t, id)
			if err != nil || ex.SettledAt.Valid {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
