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
