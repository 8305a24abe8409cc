package handlers

import (
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"
)

// Decoding the session cookie (HMAC, AES, then gob, which builds a
// decoder for every cookie) was a tenth of a cached page's CPU, for the
// same few bytes every time. So each process remembers, for
// cookieCacheTTL, the values of the cookies it decoded, keyed by the
// cookie's whole value: only a value that passed the HMAC is ever stored,
// so a forged or altered cookie never matches. Only plain string values
// are kept (a signed-in session's token): flashes change as they are
// read, and each hit gets a copy of its own.

const (
	cookieCacheTTL = time.Minute
	cookieCacheMax = 16384
	// cookieSessionKey holds the request's session on the gin context:
	// every cookieSession call of one request shares it, as gorilla's
	// registry would.
	cookieSessionKey = "fp_cookie_session"
)

// cookieCache is the values of decoded session cookies, by the cookie's
// whole value.
type cookieCache struct {
	*kept[string, map[string]string]
}

func newCookieCache() *cookieCache {
	return &cookieCache{newKept[string, map[string]string](cookieCacheTTL, cookieCacheMax)}
}

// values is a copy of raw's values, for one request to change.
func (cc *cookieCache) values(raw string) (map[any]any, bool) {
	plain, ok := cc.get(raw)
	if !ok {
		return nil, false
	}
	out := make(map[any]any, len(plain))
	for k, v := range plain {
		out[k] = v
	}
	return out, true
}

// keep keeps values when every key and value is a string.
func (cc *cookieCache) keep(raw string, values map[any]any) {
	plain := make(map[string]string, len(values))
	for k, v := range values {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if !ok1 || !ok2 {
			return
		}
		plain[ks] = vs
	}
	cc.put(raw, plain, time.Now())
}

// decodeCookie is the request's session as its cookie says: from the
// cache, or decoded (a cookie we cannot decode, an old key or tampering,
// is a fresh session).
func (h *Handler) decodeCookie(c *gin.Context) *sessions.Session {
	ck, err := c.Request.Cookie(cookieName)
	if err == nil {
		if values, ok := h.cookieValues.values(ck.Value); ok {
			s := sessions.NewSession(h.cookies, cookieName)
			s.Values = values
			return s
		}
	}
	s, err := h.cookies.New(c.Request, cookieName)
	switch {
	case err != nil:
		s = sessions.NewSession(h.cookies, cookieName)
		s.IsNew = true
	case !s.IsNew:
		h.cookieValues.keep(ck.Value, s.Values)
	}
	return s
}
