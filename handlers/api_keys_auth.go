package handlers

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// apiAuth authenticates the bearer key, counts the request against the
// key's rate limit (shared by every process: the count is a row in
// PostgreSQL), sets the RateLimit headers, and refuses with 401 or 429.
func (h *Handler) apiAuth(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	key, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="FleetPrompt API"`)
		h.fail(c, errNoKey)
		return
	}
	caller, err := h.store.AuthenticateAPIKey(c.Request.Context(), key, h.apiWindow)
	if errors.Is(err, store.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="FleetPrompt API", error="invalid_token"`)
		h.fail(c, errBadKey)
		return
	} else if err != nil {
		h.fail(c, err)
		return
	}
	reset := int(math.Ceil(caller.WindowStart.Add(h.apiWindow).Sub(caller.Now).Seconds()))
	reset = max(reset, 1)
	hd := c.Writer.Header()
	hd.Set("RateLimit-Limit", strconv.Itoa(h.apiLimit))
	hd.Set("RateLimit-Remaining", strconv.Itoa(max(h.apiLimit-caller.Count, 0)))
	hd.Set("RateLimit-Reset", strconv.Itoa(reset))
	hd.Set("RateLimit-Policy", strconv.Itoa(h.apiLimit)+";w="+strconv.Itoa(int(h.apiWindow/time.Second)))
	if caller.Count > h.apiLimit {
		hd.Set("Retry-After", strconv.Itoa(reset))
		h.fail(c, errRateLimited)
		return
	}
	c.Set("api", &caller)
	c.Next()
}

// bearer reads "Bearer <key>" (the scheme's case does not matter).
func bearer(header string) (string, bool) {
	scheme, key, _ := strings.Cut(strings.TrimSpace(header), " ")
	key = strings.TrimSpace(key)
	return key, strings.EqualFold(scheme, "Bearer") && key != ""
}

// apiWrites refuses a read key on a route that changes something.
func (h *Handler) apiWrites(c *gin.Context) {
	if !apiCaller(c).CanWrite() {
		h.fail(c, errReadKey)
		return
	}
	c.Next()
}

// apiCaller is who the request acts for. Only call it behind apiAuth.
func apiCaller(c *gin.Context) *store.APICaller { return c.MustGet("api").(*store.APICaller) }

// apiAdmin refuses what only owners and admins may ask for, when the
// key's maker no longer is one.
func apiAdmin(c *gin.Context) error {
	if !apiCaller(c).IsAdmin() {
		return store.ErrForbidden
	}
	return nil
}
