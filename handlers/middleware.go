package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// logRequests writes one structured line per request.
func (h *Handler) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	if c.Request.URL.Path == "/healthz" {
		return
	}
	h.log.Info("request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", c.Writer.Status(), "duration", time.Since(start).Round(time.Microsecond))
}

// recoverPanics turns a panic into the 500 page and a logged error.
func (h *Handler) recoverPanics(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.fail(c, fmt.Errorf("panic: %v", p))
		}
	}()
	c.Next()
}

// securityHeaders: no inline script anywhere, so the policy can forbid it.
// Signed-in pages, and any response that sets a cookie, must not be kept
// by a browser or a proxy cache (a shared computer's back button, a proxy
// serving one member's page to another): see privateWriter.
func securityHeaders(c *gin.Context) {
	hd := c.Writer.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	w := &privateWriter{ResponseWriter: c.Writer, c: c}
	c.Writer = w
	c.Next()
	w.mark() // a response without a body is written after the middleware returns
}

// privateWriter adds Cache-Control: no-store just before the headers go
// out, when the request is signed in or the response sets a cookie: only
// then is it known whether a handler (or the flash and sign-in code)
// added a cookie. Static assets are never signed in (loadSession skips
// them) and set no cookie, so they keep their long cache.
type privateWriter struct {
	gin.ResponseWriter
	c *gin.Context
}

func (w *privateWriter) mark() {
	if w.Written() {
		return
	}
	if hd := w.Header(); authOf(w.c) != nil || len(hd.Values("Set-Cookie")) > 0 {
		hd.Set("Cache-Control", "no-store")
	}
}

func (w *privateWriter) WriteHeaderNow() { w.mark(); w.ResponseWriter.WriteHeaderNow() }

func (w *privateWriter) Write(b []byte) (int, error) { w.mark(); return w.ResponseWriter.Write(b) }

func (w *privateWriter) WriteString(s string) (int, error) {
	w.mark()
	return w.ResponseWriter.WriteString(s)
}

func (w *privateWriter) Flush() { w.mark(); w.ResponseWriter.Flush() }

// Unwrap lets http.ResponseController reach the connection (event
// streams clear their write deadline and take the connection over).
func (w *privateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// crossOriginProtection refuses cross-site state-changing requests using
// the browser's Sec-Fetch-Site / Origin headers (Go's CrossOriginProtection),
// which covers every form without tokens in each one.
func (h *Handler) crossOriginProtection(c *gin.Context) {
	if err := crossOrigin.Check(c.Request); err != nil {
		h.log.Warn("cross-origin request refused", "method", c.Request.Method, "path", c.Request.URL.Path,
			"origin", c.GetHeader("Origin"), "sec_fetch_site", c.GetHeader("Sec-Fetch-Site"))
		h.fail(c, store.ErrForbidden)
		return
	}
	c.Next()
}

var crossOrigin = http.NewCrossOriginProtection()

// loadSession attaches the signed-in user, if any, to the request. The
// organization always comes from the server-side session, never from a
// request parameter, and only active memberships count.
func (h *Handler) loadSession(c *gin.Context) {
	if c.Request.URL.Path == "/healthz" || len(c.Request.URL.Path) > 8 && c.Request.URL.Path[:8] == "/static/" {
		c.Next()
		return
	}
	s := h.cookieSession(c)
	token, _ := s.Values["token"].(string)
	if token == "" {
		c.Next()
		return
	}
	sess, err := h.loadSessionCached(c.Request.Context(), token)
	if errors.Is(err, store.ErrNotFound) {
		c.Next() // ended or expired: a visitor now
		return
	} else if err != nil {
		h.fail(c, err)
		return
	}
	a := &auth{Token: token, Session: sess}
	a.Member, a.HasOrg = sess.Current()
	c.Set("auth", a)
	// Slide the expiry at most once a minute, not on every request.
	if time.Since(sess.LastSeenAt) > time.Minute {
		if err := h.store.TouchSession(c.Request.Context(), token, h.ttl); err != nil {
			h.log.Warn("touch session", "err", err)
		}
	}
	c.Next()
	// A state-changing request may have changed what this user's session
	// grants: this process's next request sees it (other processes learn
	// through the live hub). Thread pages are dropped by the writes that
	// change them (threadChanged).
	if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead && h.sessions != nil && !c.GetBool(sessionUnchanged) {
		h.sessions.dropUser(sess.UserID)
	}
}

// sessionUnchanged is set by a state-changing handler that changes
// nothing a session grants (a reply): loadSession keeps the user's
// cached session then, instead of reading it again on their next request.
const sessionUnchanged = "session-unchanged"

// requireUser sends visitors to the sign-in page, remembering where they
// were going.
func (h *Handler) requireUser(c *gin.Context) {
	if authOf(c) != nil {
		c.Next()
		return
	}
	to := "/login"
	if c.Request.Method == http.MethodGet {
		to += "?redirect_to=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	if isHTMX(c) {
		c.Header("HX-Redirect", to)
		c.AbortWithStatus(http.StatusUnauthorized)
		return
	}
	c.Redirect(http.StatusSeeOther, to)
	c.Abort()
}

// requireOrg needs an active membership in some organization.
func (h *Handler) requireOrg(c *gin.Context) {
	if a := authOf(c); a != nil && a.HasOrg {
		c.Next()
		return
	}
	c.Abort()
	h.render(c, http.StatusForbidden, "no_org", "content", h.page(c, "No organization", nil))
}

// requireAdmin needs the owner or admin role in the current organization.
func (h *Handler) requireAdmin(c *gin.Context) {
	if a := authOf(c); a != nil && a.HasOrg && a.Member.IsAdmin() {
		c.Next()
		return
	}
	h.fail(c, store.ErrForbidden)
}

// tenant is the current organization's schema handle. Only call it behind
// requireOrg.
func tenant(c *gin.Context) store.Tenant { return authOf(c).Member.Tenant() }

// maxFormBody caps a request body unless bodyLimits says otherwise for
// the route (SPEC §17: forms 1 MiB).
const maxFormBody = 1 << 20

// bodyLimits are the routes (Gin's full path) that take larger bodies.
var bodyLimits = map[string]int64{}

// checkInput caps the body, then refuses text PostgreSQL cannot store —
// NUL bytes and invalid UTF-8 — in the query string (400) or a form body,
// urlencoded or multipart (422, naming the field), before any handler
// sees it: a clear answer instead of a database error deep inside a store
// call. A body over the cap is a 413, whatever its encoding.
func (h *Handler) checkInput(c *gin.Context) {
	limit := int64(maxFormBody)
	if n, ok := bodyLimits[c.FullPath()]; ok {
		limit = n
	}
	if c.Request.ContentLength > limit {
		h.fail(c, &http.MaxBytesError{Limit: limit})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	if field, ok := unstorable(c.Request.URL.Query()); ok {
		h.log.Info("refused unstorable query", "path", c.Request.URL.Path, "field", field)
		h.fail(c, errBadQuery)
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		if err := parseBody(c.Request, limit); err != nil {
			h.fail(c, err)
			return
		}
		if field, ok := unstorable(c.Request.PostForm); ok {
			h.fail(c, store.Invalid(field, "contains characters that cannot be stored (a NUL byte or invalid UTF-8)"))
			return
		}
	}
	c.Next()
}

// parseBody reads a urlencoded or multipart form into r.PostForm (which
// Gin's PostForm then uses). A multipart body is read with all of its
// capped size allowed in memory, so no part ever spills to a temporary
// file. An oversized body stays a *http.MaxBytesError (413); anything
// else unreadable is a 422.
func parseBody(r *http.Request, limit int64) error {
	err := r.ParseForm() // first: ParseMultipartForm would drop its error
	if err == nil {
		if err = r.ParseMultipartForm(limit); errors.Is(err, http.ErrNotMultipart) {
			err = nil
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return tooBig
	}
	return store.Invalid("", "the form could not be read")
}

// unstorable returns the first field whose name or a value holds a NUL
// byte or invalid UTF-8.
func unstorable(vs url.Values) (string, bool) {
	for k, list := range vs {
		if !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 {
			return "(a field name)", true
		}
		for _, v := range list {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				return k, true
			}
		}
	}
	return "", false
}
