package handlers

import (
	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

type adminWebhookData struct {
	Endpoint   store.WebhookEndpoint
	Deliveries []store.WebhookDelivery
	Reveal     *revealed
}

// adminWebhook is GET /admin/webhooks/:id?before=: the endpoint and its
// delivery log, newest first.
func (h *Handler) adminWebhook(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	e, err := h.store.WebhookEndpointByID(ctx, t, c.Param("id"))
	if err != nil {
		return err
	}
	v := newAdminView(c, "webhooks")
	ds, next, err := h.store.WebhookDeliveries(ctx, t, e.ID, v.Q("before"), v.Limit())
	if err != nil {
		return err
	}
	v.pageLinks("/admin/webhooks/"+e.ID, "before", next)
	v.List = adminWebhookData{Endpoint: e, Deliveries: ds, Reveal: h.takeReveal(c)}
	return h.adminRender(c, "admin_webhook", "Webhook", v)
}
