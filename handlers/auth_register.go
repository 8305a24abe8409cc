package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// registerDebug is the ?fp_debug=1 panel's data.
type registerDebug struct {
	TenantSchema string
	Values       map[string]string
	Errors       map[string]string
	CanSubmit    bool
}

func (h *Handler) registerPage(c *gin.Context) error {
	return h.renderRegister(c, http.StatusOK, "content", views.NewForm(), false)
}

func registrationFrom(c *gin.Context) (store.Registration, *views.Form) {
	r := store.Registration{
		OrgName: c.PostForm("org_name"), OrgSlug: c.PostForm("org_slug"),
		Name: c.PostForm("name"), Email: c.PostForm("email"), Password: c.PostForm("password"),
	}
	f := views.NewForm()
	f.Values = map[string]string{"org_name": r.OrgName, "org_slug": r.OrgSlug, "name": r.Name, "email": r.Email}
	return r, f
}

func (h *Handler) register(c *gin.Context) error {
	r, f := registrationFrom(c)
	u, org, err := h.store.Register(c.Request.Context(), r)
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		return h.renderRegister(c, http.StatusUnprocessableEntity, "register_form", f, true)
	} else if err != nil {
		return err
	}
	if err := h.signIn(c, u.ID, &org.ID); err != nil {
		return err
	}
	h.flash(c, "info", "Welcome to FleetPrompt: "+org.Name+" is ready.")
	return redirect(c, "/dashboard")
}

func (h *Handler) renderRegister(c *gin.Context, status int, fragment string, f *views.Form, submitted bool) error {
	p := h.page(c, "Create your organization", nil)
	p.Form = f
	p.Debug = c.Query("fp_debug") == "1"
	if p.Debug {
		r := store.Registration{OrgName: f.Value("org_name"), OrgSlug: f.Value("org_slug")}
		r.Normalize()
		schema := "(none yet: no name or slug)"
		if r.OrgSlug != "" {
			schema = "org_" + r.OrgSlug
		}
		p.Data = registerDebug{TenantSchema: schema, Values: f.Values, Errors: f.Errors, CanSubmit: !submitted || !f.Invalid()}
	}
	return h.render(c, status, "register", fragment, p)
}
