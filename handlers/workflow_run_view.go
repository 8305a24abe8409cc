package handlers

import (
	"context"
	"encoding/json"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

func (h *Handler) renderRun(c *gin.Context, status int, problem string) error {
	ctx, t := c.Request.Context(), tenant(c)
	seq, err := h.store.LatestSignalSeq(ctx, t)
	if err != nil {
		return err
	}
	run, err := h.store.Run(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	d, err := h.runView(ctx, t, run, authOf(c).Member.IsAdmin())
	if err != nil {
		return err
	}
	d.Seq, d.Error = seq, problem
	return h.render(c, status, "workflow_run", "content", h.page(c, "Run of "+run.WorkflowName, d))
}

func (h *Handler) runView(ctx context.Context, t store.Tenant, run store.WorkflowRun, admin bool) (runData, error) {
	d := runData{Run: run, Trigger: triggerWords(run.TriggerName), IsAdmin: admin, TriggerData: indentJSON(string(run.Trigger))}
	var trig struct {
		ThreadID string `json:"thread_id"`
	}
	if json.Unmarshal(run.Trigger, &trig) == nil && store.IsUUID(trig.ThreadID) {
		d.TriggerURL = "/forums/t/" + trig.ThreadID
	}
	defs := map[string]stepView{}
	if def, err := workflow.Parse(string(run.Definition)); err == nil {
		for _, v := range h.stepViews(def) {
			defs[v.ID] = v
		}
	}
	steps, err := h.store.Steps(ctx, h.store.DB, t, run.ID)
	if err != nil {
		return d, err
	}
	var deciders []int64
	for _, s := range steps {
		if s.DecidedBy.Valid {
			deciders = append(deciders, s.DecidedBy.Int64)
		}
	}
	names, err := h.store.UserNames(ctx, deciders)
	if err != nil {
		return d, err
	}
	for _, s := range steps {
		v := runStepView{WorkflowStep: s, Def: defs[s.StepID]}
		if s.DecidedBy.Valid {
			v.DecidedBy = names[s.DecidedBy.Int64]
		}
		d.Steps = append(d.Steps, v)
	}
	return d, nil
}
