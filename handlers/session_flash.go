package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/views"
)

// flash queues a message for the next page this browser loads.
func (h *Handler) flash(c *gin.Context, kind, msg string) {
	s := h.cookieSession(c)
	s.AddFlash(views.Flash{Kind: kind, Message: msg})
	if err := s.Save(c.Request, c.Writer); err != nil {
		h.log.Warn("save flash", "err", err)
	}
}

func (h *Handler) takeFlashes(c *gin.Context) []views.Flash {
	s := h.cookieSession(c)
	raw := s.Flashes()
	if len(raw) == 0 {
		return nil
	}
	out := make([]views.Flash, 0, len(raw))
	for _, f := range raw {
		if fl, ok := f.(views.Flash); ok {
			out = append(out, fl)
		}
	}
	if !c.Writer.Written() {
		s.Save(c.Request, c.Writer)
	}
	return out
}
