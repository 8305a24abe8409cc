package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// adminWebhookRedeliver is POST /admin/webhooks/deliveries/:id/redeliver:
// the delivery is sent again now, as its next attempt, with the same
// webhook-id.
func (h *Handler) adminWebhookRedeliver(c *gin.Context) error {
	base := localPath(c.PostForm("return_to"), "/admin/webhooks")
	if b, _, _ := strings.Cut(base, "?"); strings.HasPrefix(b, "/admin/webhooks/") && store.IsUUID(strings.TrimPrefix(b, "/admin/webhooks/")) {
		base = b
	} else {
		base = "/admin/webhooks"
	}
	list := h.adminWebhooks
	if base != "/admin/webhooks" {
		list = func(c *gin.Context) error {
			c.Params = append(c.Params[:0], gin.Param{Key: "id", Value: strings.TrimPrefix(base, "/admin/webhooks/")})
			return h.adminWebhook(c)
		}
	}
	return h.adminAct(c, base, list, func(ctx context.Context) (string, error) {
		d, err := h.store.RedeliverWebhook(ctx, tenant(c), c.Param("id"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s is being delivered again (attempt %d).", d.SignalName, d.Attempts+1), nil
	})
}
