package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// Account settings (SPEC §16): GET /settings shows the profile form (name,
// handle) and the password form; each posts on its own, answers 303 back
// with a flash, or re-renders its form with the messages (422), input
// kept (never a password). With htmx the form swaps in place.

// settingsData is the settings page: one form each, so one form's
// messages never show in the other.
type settingsData struct {
	Profile  *views.Form
	Password *views.Form
	Handle   string // the saved one, for the profile link
}

// settings is GET /settings.
func (h *Handler) settings(c *gin.Context) error {
	s := authOf(c).Session
	profile := views.NewForm()
	profile.Values["name"], profile.Values["handle"] = s.Name, s.Handle
	return h.renderSettings(c, http.StatusOK, "content", settingsData{Profile: profile, Password: views.NewForm(), Handle: s.Handle})
}

func (h *Handler) renderSettings(c *gin.Context, status int, fragment string, d settingsData) error {
	if d.Profile == nil {
		d.Profile = views.NewForm()
	}
	if d.Password == nil {
		d.Password = views.NewForm()
	}
	return h.render(c, status, "settings", fragment, h.page(c, "Settings", d))
}

// settingsProfile is POST /settings/profile (name, handle).
func (h *Handler) settingsProfile(c *gin.Context) error {
	a := authOf(c)
	f := views.NewForm()
	f.Values["name"], f.Values["handle"] = c.PostForm("name"), c.PostForm("handle")
	u, err := h.store.UpdateProfile(c.Request.Context(), a.Session.UserID, store.ProfileChange{Name: f.Values["name"], Handle: f.Values["handle"]})
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		return h.renderSettings(c, http.StatusUnprocessableEntity, "profile_form", settingsData{Profile: f, Handle: a.Session.Handle})
	} else if err != nil {
		return err
	}
	// Every process's cached sessions of this user carry the old name.
	h.userChanged(c.Request.Context(), u.ID)
	h.flash(c, "info", fmt.Sprintf("Profile saved: you are %s, @%s.", u.Name, u.Handle))
	return redirect(c, "/settings")
}
