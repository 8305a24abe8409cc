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

// API keys (SPEC §15), owner/admin: create one (shown once), revoke, see
// when each was last used.

// revealed is a secret shown once: a new API key, a webhook secret. A
// plain form post keeps it in the encrypted session cookie for the page
// its 303 leads to, which takes it out again; htmx renders it at once.
type revealed struct {
	Label, Secret string
}

const revealKey = "reveal"

// flashReveal queues msg and r for the next page, in one save of the
// session (two saves would each write a cookie, the last one winning).
func (h *Handler) flashReveal(c *gin.Context, msg string, r revealed) error {
	s := h.cookieSession(c)
	s.AddFlash(views.Flash{Kind: "info", Message: msg})
	s.Values["reveal_label"], s.Values["reveal_secret"] = r.Label, r.Secret
	return s.Save(c.Request, c.Writer)
}

// takeReveal is the secret to show on this page, if any, shown only here.
func (h *Handler) takeReveal(c *gin.Context) *revealed {
	if r, ok := c.Get(revealKey); ok {
		return r.(*revealed)
	}
	s := h.cookieSession(c)
	secret, _ := s.Values["reveal_secret"].(string)
	if secret == "" {
		return nil
	}
	label, _ := s.Values["reveal_label"].(string)
	delete(s.Values, "reveal_secret")
	delete(s.Values, "reveal_label")
	if err := s.Save(c.Request, c.Writer); err != nil {
		h.log.Warn("forget revealed secret", "err", err)
	}
	return &revealed{Label: label, Secret: secret}
}

type adminAPIKeysData struct {
	Keys   []store.APIKey
	Reveal *revealed
	Scopes []string
}

// adminAPIKeys is GET /admin/api-keys.
func (h *Handler) adminAPIKeys(c *gin.Context) error {
	keys, err := h.store.APIKeys(c.Request.Context(), tenant(c))
	if err != nil {
		return err
	}
	v := newAdminView(c, "api-keys")
	v.List = adminAPIKeysData{Keys: keys, Reveal: h.takeReveal(c), Scopes: []string{store.ScopeRead, store.ScopeWrite}}
	return h.adminRender(c, "admin_api_keys", "API keys", v)
}

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
