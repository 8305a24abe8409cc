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
	s, err := h.cookies.Get(c.Request, cookieName)
	if err != nil {
		// A cookie we cannot decode (old key, tampering) is a fresh session.
		s, _ = h.cookies.New(c.Request, cookieName)
	}
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

// signIn starts a new server-side session for u: the token is always new,
// so a session id planted before sign-in is worthless afterwards.
func (h *Handler) signIn(c *gin.Context, userID int64, orgID *int64) error {
	if a := authOf(c); a != nil {
		h.store.DeleteSession(c.Request.Context(), a.Token)
		if h.sessions != nil {
			h.sessions.dropKey(sessionHash(a.Token))
		}
	}
	token, err := h.store.CreateSession(c.Request.Context(), userID, orgID, h.ttl, c.Request.UserAgent())
	if err != nil {
		return err
	}
	s := h.cookieSession(c)
	s.Values = map[any]any{"token": token}
	return s.Save(c.Request, c.Writer)
}

// signOut deletes the server-side session, so every copy of the cookie
// stops working, and clears the cookie.
func (h *Handler) signOut(c *gin.Context) error {
	s := h.cookieSession(c)
	if tok, ok := s.Values["token"].(string); ok {
		if err := h.store.DeleteSession(c.Request.Context(), tok); err != nil {
			return err
		}
		// Dead here at once; other processes drop it on endStreams'
		// announcement.
		if h.sessions != nil {
			h.sessions.dropKey(sessionHash(tok))
		}
		h.endStreams(c, tok)
	}
	s.Values = map[any]any{}
	s.Options.MaxAge = -1
	return s.Save(c.Request, c.Writer)
}

// flash queues a message for the next page this browser loads.
func (h *Handler) flash(c *gin.Context, kind, msg string) {
	s := h.cookieSession(c)
	s.AddFlash(views.Flash{Kind: kind, Message: msg})
	if err := s.Save(c.Request, c.Writer); err != nil {
		h.log.Warn("save flash", "err", err)
	}
}

func (h *Handler) takeFlashes(c *gin.Context) []views.Flash {
	s := h.cookieSession(c)
	raw := s.Flashes()
	if len(raw) == 0 {
		return nil
	}
	out := make([]views.Flash, 0, len(raw))
	for _, f := range raw {
		if fl, ok := f.(views.Flash); ok {
			out = append(out, fl)
		}
	}
	if !c.Writer.Written() {
		s.Save(c.Request, c.Writer)
	}
	return out
}
