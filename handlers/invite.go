package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// The invitation link, /invite/:token, for anyone who holds it: the token
// is the credential, so it is open to visitors (SPEC §16).
//
//   - a visitor sets a name and password; the email is the invited one;
//   - a visitor whose email has an account already is asked to sign in;
//   - a signed-in user with the invited email accepts with one button;
//   - a signed-in user with another email is told to sign out first (403,
//     and nothing about the invitation: the link may have been forwarded).
//
// A link that never existed is 404; one that was used, revoked or has
// expired is 410 Gone, on GET and POST alike, with a page saying which.

// Modes of the invitation page.
const (
	inviteNew      = "new"      // a visitor: name and password
	inviteSignIn   = "signin"   // a visitor with an account: sign in first
	inviteAccept   = "accept"   // signed in with the invited email
	inviteMismatch = "mismatch" // signed in with another email
	inviteGone     = "gone"     // used, revoked, expired or unknown
)

// invitePage is the invitation page's data.
type invitePage struct {
	Mode    string
	State   string // for Mode gone: accepted, revoked, expired, or "" (unknown)
	Path    string // the link's path, the forms' action
	OrgName string
	Role    string
	Email   string
	By      string // the inviter's name
	Expires time.Time
}

// inviteShow is GET /invite/:token.
func (h *Handler) inviteShow(c *gin.Context) error {
	inv, err := h.store.InvitationByToken(c.Request.Context(), c.Param("token"))
	if errors.Is(err, store.ErrNotFound) {
		return h.renderInvite(c, http.StatusNotFound, "content", invitePage{Mode: inviteGone}, nil)
	} else if err != nil {
		return err
	}
	p := h.invitePageOf(c, inv)
	return h.renderInvite(c, inviteStatus(p), "content", p, views.NewForm())
}

func (h *Handler) renderInvite(c *gin.Context, status int, fragment string, p invitePage, f *views.Form) error {
	page := h.page(c, "Invitation", p)
	if f == nil {
		f = views.NewForm()
	}
	page.Form = f
	return h.render(c, status, "invite", fragment, page)
}
