package handlers

import (
	"context"
	"encoding/json"
	"errors"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// liveRun: every move of a run or one of its steps replaces the run page's
// panel, so an open page shows each step's state as a reload would. The
// panel's buttons are for owners and admins, so each audience gets its own.
func (h *Handler) liveRun(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
	var p struct {
		RunID string `json:"run_id"`
	}
	json.Unmarshal(sig.Payload, &p) // workflow.created and the like carry none
	if !store.IsUUID(p.RunID) {
		return nil, nil
	}
	run, err := h.store.Run(ctx, t, p.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []live.Fragment
	for _, admin := range []bool{false, true} {
		d, err := h.runView(ctx, t, run, admin)
		if err != nil {
			return nil, err
		}
		html, err := h.block("run_panel", d)
		if err != nil {
			return nil, err
		}
		f := live.Fragment{Kind: live.KindRun, HTML: html, For: live.MembersOnly}
		if admin {
			f.For = live.ModeratorsOnly
		}
		out = append(out, f)
	}
	return out, nil
}
