package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/webhook"
	"fleetprompt/store"
	"fleetprompt/views"
)

// checkWebhookURL is the SSRF guard's check at save time (without an
// engine, the strict one).
func (h *Handler) checkWebhookURL(ctx context.Context, raw string) (string, error) {
	if h.hooks == nil {
		return webhook.CheckURL(ctx, raw, false)
	}
	return h.hooks.CheckURL(ctx, raw)
}

// adminWebhookCreate is POST /admin/webhooks (url, events, description):
// the new endpoint's page shows its secret, once.
func (h *Handler) adminWebhookCreate(c *gin.Context) error {
	ctx := c.Request.Context()
	f := views.NewForm()
	for _, k := range []string{"url", "events", "description"} {
		f.Values[k] = c.PostForm(k)
	}
	u, err := h.checkWebhookURL(ctx, f.Values["url"])
	var e store.WebhookEndpoint
	if err == nil {
		e, err = h.store.CreateWebhookEndpoint(ctx, tenant(c), authOf(c).Session.UserID, store.NewWebhookEndpoint{
			URL: u, Events: store.ParseSignalPatterns(f.Values["events"]), Description: f.Values["description"]})
	}
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		c.Set(adminFormKey, f)
		return h.adminRelist(c, "/admin/webhooks", http.StatusUnprocessableEntity,
			&views.Flash{Kind: "error", Message: "The endpoint was not added: " + validationMessage(v)}, h.adminWebhooks)
	} else if err != nil {
		return err
	}
	return h.revealWebhookSecret(c, e, "Endpoint added. Copy its signing secret now: it is not shown again.")
}

// revealWebhookSecret goes to the endpoint's page with its secret shown.
func (h *Handler) revealWebhookSecret(c *gin.Context, e store.WebhookEndpoint, msg string) error {
	r := revealed{Label: "Signing secret of " + e.URL, Secret: e.Secret}
	to := "/admin/webhooks/" + e.ID
	if !isHTMX(c) {
		if err := h.flashReveal(c, msg, r); err != nil {
			return err
		}
		return redirect(c, to)
	}
	c.Set(revealKey, &r)
	return h.adminRelist(c, to, http.StatusOK, &views.Flash{Kind: "info", Message: msg}, h.adminWebhook)
}
