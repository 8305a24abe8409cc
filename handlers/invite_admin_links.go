package handlers

import (
	"fmt"
	"math"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// absoluteURL is path on the host the request came to, for a link that
// is copied out of the app.
func absoluteURL(c *gin.Context, path string) string {
	scheme := "http"
	if isTLS(c.Request) {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host + path
}

// inviteExpiry says when an invited membership's link stops working.
func inviteExpiry(m store.Member, now time.Time) string {
	if m.InvitationExpired(now) {
		return "link expired"
	}
	left := m.InvitationExpiresAt.Time.Sub(now)
	switch {
	case left >= 36*time.Hour:
		return fmt.Sprintf("link works %d more days", int(math.Round(left.Hours()/24)))
	case left >= 90*time.Minute:
		return fmt.Sprintf("link works %d more hours", int(math.Round(left.Hours())))
	}
	return "link works less than 2 more hours"
}
