package handlers

import "github.com/gin-gonic/gin"

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
