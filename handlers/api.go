package handlers

import (
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// The JSON API (SPEC §15) is a second face on the same store and
// directives as the pages: /api/v1, a bearer API key, JSON in and out,
// problem+json errors with the pages' statuses. The tenant comes from the
// key alone; a session cookie grants nothing here.

// apiPrefix is where the API lives; errors under it are problem+json.
const apiPrefix = "/api/"

// Defaults of the per-key rate limit (Config.APIRateLimit, APIRateWindow).
const (
	defaultAPIRateLimit  = 600
	defaultAPIRateWindow = time.Minute
)

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, apiPrefix) }
