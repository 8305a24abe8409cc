package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
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

// inviteAccept is POST /invite/:token: a visitor's name and password, or a
// signed-in user's one button. Success signs them in with the inviting
// organization as the current one: 303 to its dashboard.
func (h *Handler) inviteAccept(c *gin.Context) error {
	ctx, a := c.Request.Context(), authOf(c)
	acc := store.Acceptance{Token: c.Param("token")}
	f := views.NewForm()
	if a != nil {
		acc.UserID = a.Session.UserID
	} else {
		acc.Name, acc.Password = c.PostForm("name"), c.PostForm("password")
		f.Values["name"] = acc.Name
	}
	u, inv, err := h.store.AcceptInvitation(ctx, acc)
	var gone *store.InvitationGoneError
	var v *store.ValidationError
	if isHTMX(c) && (errors.Is(err, store.ErrNotFound) || errors.As(err, &gone) || errors.Is(err, store.ErrForbidden)) {
		// htmx swaps only forms' 422s: load the page whole, which says why.
		c.Header("HX-Refresh", "true")
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return h.renderInvite(c, http.StatusNotFound, "content", invitePage{Mode: inviteGone}, nil)
	case errors.As(err, &gone), errors.Is(err, store.ErrForbidden):
		p := h.invitePageOf(c, inv)
		return h.renderInvite(c, inviteStatus(p), "content", p, nil)
	case errors.As(err, &v):
		f.Errors = v.Fields
		return h.renderInvite(c, http.StatusUnprocessableEntity, "invite_form", h.invitePageOf(c, inv), f)
	case err != nil:
		return err
	}
	if err := h.signIn(c, u.ID, &inv.OrgID); err != nil {
		return err
	}
	if a != nil {
		h.endStreams(c, a.Token) // the session signIn replaced, in every process
	}
	h.userChanged(ctx, u.ID) // their other sessions, in every process, learn the membership
	h.flash(c, "info", fmt.Sprintf("Welcome to %s: you joined as %s.", inv.OrgName, article(inv.Role)))
	return redirect(c, "/dashboard")
}

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

func (h *Handler) renderInvite(c *gin.Context, status int, fragment string, p invitePage, f *views.Form) error {
	page := h.page(c, "Invitation", p)
	if f == nil {
		f = views.NewForm()
	}
	page.Form = f
	return h.render(c, status, "invite", fragment, page)
}
