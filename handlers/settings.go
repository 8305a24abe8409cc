package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

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

// settingsPassword is POST /settings/password (current_password,
// password). A wrong current password counts as a failed sign-in of the
// account from this client (throttle.go), so a borrowed session cannot
// guess it faster than the sign-in form could. Success ends every other
// session of the user, in every process, and keeps this one.
func (h *Handler) settingsPassword(c *gin.Context) error {
	ctx, a := c.Request.Context(), authOf(c)
	f := views.NewForm()
	current, next := c.PostForm("current_password"), c.PostForm("password")
	refuse := func(status int, fields map[string]string) error {
		f.Errors = fields
		return h.renderSettings(c, status, "password_form", settingsData{Password: f, Handle: a.Session.Handle})
	}
	// Only a form that will test the current password counts as an attempt.
	if err := store.ValidatePasswordChange(current, next); err != nil {
		var v *store.ValidationError
		if errors.As(err, &v) {
			return refuse(http.StatusUnprocessableEntity, v.Fields)
		}
		return err
	}
	account, _ := loginKeys(a.Session.Email, c.ClientIP())
	wait, err := h.store.StartLoginAttempt(ctx, []string{account}, loginWait)
	if err != nil {
		return err
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		c.Header("Retry-After", strconv.Itoa(secs))
		return refuse(http.StatusTooManyRequests, map[string]string{"": fmt.Sprintf("Too many wrong passwords. Try again in %s.", waitText(secs))})
	}
	ended, err := h.store.ChangePassword(ctx, a.Session.UserID, current, next, a.Token)
	var v *store.ValidationError
	if errors.As(err, &v) {
		return refuse(http.StatusUnprocessableEntity, v.Fields)
	} else if err != nil {
		return err
	}
	if err := h.store.LoginSucceeded(ctx, account, nil); err != nil {
		h.log.Warn("forget password failures", "err", err)
	}
	h.endSessions(ctx, ended)
	h.flash(c, "info", "Password changed. "+signedOutText(len(ended)))
	return redirect(c, "/settings")
}

// signedOutText says how many other sessions were ended.
func signedOutText(n int) string {
	switch n {
	case 0:
		return "You had no other sessions."
	case 1:
		return "Your 1 other session is signed out."
	}
	return fmt.Sprintf("Your %d other sessions are signed out.", n)
}
