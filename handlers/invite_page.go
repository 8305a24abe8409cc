package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// invitePageOf decides what the page shows this caller about inv.
func (h *Handler) invitePageOf(c *gin.Context, inv store.Invitation) invitePage {
	p := invitePage{Path: c.Request.URL.Path}
	if st := inv.State(time.Now()); st != store.InvitationPending {
		return invitePage{Mode: inviteGone, State: st}
	}
	a := authOf(c)
	switch {
	case a != nil && !strings.EqualFold(a.Session.Email, inv.Email):
		return invitePage{Mode: inviteMismatch, Path: p.Path}
	case a != nil:
		p.Mode = inviteAccept
	case inv.HasAccount:
		p.Mode = inviteSignIn
	default:
		p.Mode = inviteNew
	}
	p.OrgName, p.Role, p.Email, p.By, p.Expires = inv.OrgName, inv.Role, inv.Email, inv.InvitedBy, inv.ExpiresAt
	return p
}

// inviteStatus is the page's status: 410 for a link that stopped
// working, 404 for one that never did, 403 for the wrong person.
func inviteStatus(p invitePage) int {
	switch {
	case p.Mode == inviteGone && p.State == "":
		return http.StatusNotFound
	case p.Mode == inviteGone:
		return http.StatusGone
	case p.Mode == inviteMismatch:
		return http.StatusForbidden
	}
	return http.StatusOK
}
