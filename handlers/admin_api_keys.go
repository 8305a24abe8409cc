package handlers

import (
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
