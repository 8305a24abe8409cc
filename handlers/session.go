package handlers

import (
	"encoding/gob"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"fleetprompt/store"
	"fleetprompt/views"
)

const cookieName = "fp_session"

func init() { gob.Register(views.Flash{}) }

// auth is what loadSession learned about the request's user.
type auth struct {
	Token   string
	Session store.Session
	Member  store.Membership // the current organization, when HasOrg
	HasOrg  bool
}

func authOf(c *gin.Context) *auth {
	if v, ok := c.Get("auth"); ok {
		return v.(*auth)
	}
	return nil
}

// cookieSession returns the gorilla session for the request, set up with
// explicit cookie options: gorilla/sessions v1.4 defaults differ from what
// we want, so nothing is left to them.
func (h *Handler) cookieSession(c *gin.Context) *sessions.Session {
	if s, ok := c.Get(cookieSessionKey); ok {
		return s.(*sessions.Session)
	}
	s := h.decodeCookie(c)
	c.Set(cookieSessionKey, s)
	s.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(h.ttl.Seconds()),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   isTLS(c.Request),
	}
	return s
}

func isTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
