package handlers

import (
	"context"
	"fmt"

	"github.com/gin-gonic/gin"
)

// adminWebhookRotate is POST /admin/webhooks/:id/rotate: a new secret,
// shown once; the old one keeps signing beside it for 24 hours.
func (h *Handler) adminWebhookRotate(c *gin.Context) error {
	e, err := h.store.RotateWebhookSecret(c.Request.Context(), tenant(c), authOf(c).Session.UserID, c.Param("id"))
	if err != nil {
		return err
	}
	return h.revealWebhookSecret(c, e, "New signing secret made. Deliveries carry both signatures for 24 hours, so switch your receiver to the new one within that time.")
}

// adminWebhookDisable and adminWebhookEnable are POST
// /admin/webhooks/:id/disable and /enable.
func (h *Handler) adminWebhookDisable(c *gin.Context) error { return h.adminWebhookSet(c, false) }

func (h *Handler) adminWebhookEnable(c *gin.Context) error { return h.adminWebhookSet(c, true) }

func (h *Handler) adminWebhookSet(c *gin.Context, enabled bool) error {
	return h.adminAct(c, "/admin/webhooks/"+c.Param("id"), h.adminWebhook, func(ctx context.Context) (string, error) {
		e, err := h.store.SetWebhookEnabled(ctx, tenant(c), authOf(c).Session.UserID, c.Param("id"), enabled)
		if err != nil {
			return "", err
		}
		if enabled {
			return "The endpoint is enabled: new signals are delivered to it.", nil
		}
		return fmt.Sprintf("%s is disabled: nothing is delivered to it until it is enabled again.", e.URL), nil
	})
}

// adminWebhookTest is POST /admin/webhooks/:id/test: a test event, sent
// to this endpoint alone through the usual delivery path.
func (h *Handler) adminWebhookTest(c *gin.Context) error {
	return h.adminAct(c, "/admin/webhooks/"+c.Param("id"), h.adminWebhook, func(ctx context.Context) (string, error) {
		if _, err := h.store.TestWebhookEndpoint(ctx, tenant(c), authOf(c).Session.UserID, c.Param("id")); err != nil {
			return "", err
		}
		return "Test event sent: it appears in the delivery log below in a moment.", nil
	})
}
