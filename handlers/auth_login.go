package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

func (h *Handler) loginPage(c *gin.Context) error {
	if authOf(c) != nil {
		return redirect(c, localPath(c.Query("redirect_to"), "/dashboard"))
	}
	f := views.NewForm()
	f.Values["redirect_to"] = localPath(c.Query("redirect_to"), "")
	p := h.page(c, "Sign in", nil)
	p.Form = f
	return h.render(c, http.StatusOK, "login", "content", p)
}

// login checks the credentials. Wrong email and wrong password give the
// same message (and cost the same time: see store.Authenticate); repeated
// failures make the next attempt wait (throttle.go), with 429 until then.
func (h *Handler) login(c *gin.Context) error {
	f := views.NewForm()
	email := strings.TrimSpace(c.PostForm("email"))
	f.Values["email"] = email
	f.Values["redirect_to"] = localPath(c.PostForm("redirect_to"), "")
	ctx := c.Request.Context()
	account, client := loginKeys(email, c.ClientIP())
	wait, err := h.store.StartLoginAttempt(ctx, []string{account, client}, loginWait)
	if err != nil {
		return err
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		c.Header("Retry-After", strconv.Itoa(secs))
		f.Errors[""] = fmt.Sprintf("Too many failed attempts. Try again in %s.", waitText(secs))
		return h.renderLogin(c, http.StatusTooManyRequests, f)
	}
	u, err := h.store.Authenticate(ctx, email, c.PostForm("password"))
	if errors.Is(err, store.ErrBadCredentials) {
		f.Errors[""] = "Wrong email or password."
		return h.renderLogin(c, http.StatusUnprocessableEntity, f)
	} else if err != nil {
		return err
	}
	if err := h.store.LoginSucceeded(ctx, account, []string{client}); err != nil {
		return err
	}
	if err := h.signIn(c, u.ID, nil); err != nil {
		return err
	}
	return redirect(c, localPath(f.Values["redirect_to"], "/dashboard"))
}

func (h *Handler) renderLogin(c *gin.Context, status int, f *views.Form) error {
	p := h.page(c, "Sign in", nil)
	p.Form = f
	return h.render(c, status, "login", "login_form", p)
}
