package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

func (h *Handler) home(c *gin.Context) error {
	return h.render(c, http.StatusOK, "home", "content", h.page(c, "", nil))
}

// healthz answers 200 when the database responds and every tenant is
// migrated, 503 otherwise, with the facts as JSON.
func (h *Handler) healthz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	body := gin.H{"status": "ok", "database": "ok"}
	status := http.StatusOK
	if err := h.store.Ping(ctx); err != nil {
		body["status"], body["database"] = "unavailable", "unreachable"
		status = http.StatusServiceUnavailable
	}
	if h.health != nil {
		for k, v := range h.health(ctx) {
			body[k] = v
			if k == "tenants_failed" {
				body["status"] = "degraded"
				status = http.StatusServiceUnavailable
			}
		}
	}
	c.JSON(status, body)
	return nil
}
