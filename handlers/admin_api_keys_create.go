package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// adminAPIKeyCreate is POST /admin/api-keys (name, scope): the key is shown
// on the page this leads to, once.
func (h *Handler) adminAPIKeyCreate(c *gin.Context) error {
	f := views.NewForm()
	f.Values["name"], f.Values["scope"] = c.PostForm("name"), c.PostForm("scope")
	k, key, err := h.store.CreateAPIKey(c.Request.Context(), tenant(c), authOf(c).Session.UserID, f.Values["name"], f.Values["scope"])
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		c.Set(adminFormKey, f)
		return h.adminRelist(c, "/admin/api-keys", http.StatusUnprocessableEntity,
			&views.Flash{Kind: "error", Message: "The key was not created: " + validationMessage(v)}, h.adminAPIKeys)
	} else if err != nil {
		return err
	}
	msg := fmt.Sprintf("Key “%s” (%s) created. Copy it now: it is not shown again.", k.Name, k.Scope)
	r := revealed{Label: "API key “" + k.Name + "”", Secret: key}
	if !isHTMX(c) {
		if err := h.flashReveal(c, msg, r); err != nil {
			return err
		}
		return redirect(c, "/admin/api-keys")
	}
	c.Set(revealKey, &r)
	return h.adminRelist(c, "/admin/api-keys", http.StatusOK, &views.Flash{Kind: "info", Message: msg}, h.adminAPIKeys)
}

// adminAPIKeyRevoke is POST /admin/api-keys/:id/revoke: the key stops
// working at once, in every process.
func (h *Handler) adminAPIKeyRevoke(c *gin.Context) error {
	return h.adminAct(c, "/admin/api-keys", h.adminAPIKeys, func(ctx context.Context) (string, error) {
		k, err := h.store.RevokeAPIKey(ctx, tenant(c), authOf(c).Session.UserID, c.Param("id"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Key “%s” is revoked: it no longer works.", k.Name), nil
	})
}
