package handlers

import (
	"errors"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// registerValidate answers htmx's inline validation of one field: the
// field re-rendered with its message, including whether the slug is taken.
func (h *Handler) registerValidate(c *gin.Context) error {
	r, f := registrationFrom(c)
	field := c.PostForm("_field")
	r.Normalize()
	if err := r.Validate(); err != nil {
		var v *store.ValidationError
		if errors.As(err, &v) {
			f.Errors = v.Fields
		}
	}
	if field == "org_slug" || field == "org_name" {
		if f.Errors["org_slug"] == "" && r.OrgSlug != "" {
			if _, err := h.store.OrganizationBySlug(c.Request.Context(), r.OrgSlug); err == nil {
				f.Errors["org_slug"] = `"` + r.OrgSlug + `" is already taken: choose another`
			}
		}
	}
	labels := map[string]string{"org_name": "Organization name", "org_slug": "Organization slug (optional)", "name": "Your name", "email": "Email"}
	label, ok := labels[field]
	if !ok {
		return store.Invalid("_field", "unknown field")
	}
	c.Header("Content-Type", "text/html; charset=utf-8")
	return h.views.Render(c.Writer, "register", "field", map[string]any{
		"Form": f, "Name": field, "Label": label, "Validate": "/register/validate",
		"Type": map[bool]string{true: "email"}[field == "email"],
	})
}
