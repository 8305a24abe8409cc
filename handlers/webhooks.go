package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/webhook"
	"fleetprompt/store"
	"fleetprompt/views"
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
