package handlers

import (
	"strings"

	"fleetprompt/jobs/workflow"
)

// stepView is one step of a definition as its pages describe it.
type stepView struct {
	workflow.Step
	Does string // in words
}

func (h *Handler) stepViews(d workflow.Definition) []stepView {
	out := make([]stepView, 0, len(d.Steps))
	for _, s := range d.Steps {
		v := stepView{Step: s}
		switch s.Kind() {
		case workflow.KindAgent:
			v.Does = "@" + strings.TrimPrefix(s.Agent, "@") + " answers"
		case workflow.KindDirective:
			v.Does = s.Directive
			if k, ok := h.dirs.Kind(s.Directive); ok && k.Title != "" {
				v.Does = k.Title
			}
		case workflow.KindApproval:
			v.Does = "An owner or admin approves"
			if to := s.Timeout(); to > 0 {
				v.Does += " (within " + to.String() + ")"
			}
		case workflow.KindDelay:
			v.Does = "Waits " + s.DelayFor().String()
		}
		out = append(out, v)
	}
	return out
}
