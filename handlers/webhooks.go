package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// Webhooks (SPEC §15), owner/admin: endpoints with the signal patterns
// they want, their secret shown once, rotation, disable/enable, a test
// event, the delivery log and redelivery. Sending is jobs/webhook's.

type adminWebhooksData struct {
	Endpoints []store.WebhookEndpoint
	Private   bool // WEBHOOK_ALLOW_PRIVATE: the form says so
}

// adminWebhooks is GET /admin/webhooks.
func (h *Handler) adminWebhooks(c *gin.Context) error {
	eps, err := h.store.WebhookEndpoints(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	v := newAdminView(c, "webhooks")
	v.List = adminWebhooksData{Endpoints: eps, Private: h.hooks != nil && h.hooks.AllowPrivate()}
	return h.adminRender(c, "admin_webhooks", "Webhooks", v)
}
