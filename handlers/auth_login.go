package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
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
// failures per email or per client address are refused with 429.
func (h *Handler) login(c *gin.Context) error {
	f := views.NewForm()
	email := strings.TrimSpace(c.PostForm("email"))
	f.Values["email"] = email
	f.Values["redirect_to"] = localPath(c.PostForm("redirect_to"), "")
	keys := []string{"email:" + strings.ToLower(email), "ip:" + c.ClientIP()}
	if blocked, wait := h.throttle.blocked(keys...); blocked {
		c.Header("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
		f.Errors[""] = fmt.Sprintf("Too many failed attempts. Try again in %d minutes.", int(math.Ceil(wait.Minutes())))
		return h.renderLogin(c, http.StatusTooManyRequests, f)
	}
	u, err := h.store.Authenticate(c.Request.Context(), email, c.PostForm("password"))
	if errors.Is(err, store.ErrBadCredentials) {
		h.throttle.fail(keys...)
		f.Errors[""] = "Wrong email or password."
		return h.renderLogin(c, http.StatusUnprocessableEntity, f)
	} else if err != nil {
		return err
	}
	h.throttle.reset(keys[0])
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

func (h *Handler) logout(c *gin.Context) error {
	if err := h.signOut(c); err != nil {
		return err
	}
	return redirect(c, "/")
}
