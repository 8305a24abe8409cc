package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// Inviting from the members page (SPEC §16). The link is shown once, to
// the admin who made it: only its token's hash is stored. Without
// JavaScript it rides the 303 in the (encrypted, HttpOnly) session
// cookie, like a flash, to the members page that shows it; with htmx it
// is rendered straight into the swapped page.

const (
	inviteLinkKey     = "invite_link" // the session value and context key
	inviteFieldPrefix = "invite_"     // the invite form's fields in the page's Form
)

// adminInvite is POST /admin/invitations (email, role).
func (h *Handler) adminInvite(c *gin.Context) error {
	email, role := c.PostForm("email"), c.PostForm("role")
	inv, token, err := h.store.Invite(c.Request.Context(), tenant(c), authOf(c).Session.UserID, email, role)
	var v *store.ValidationError
	if errors.As(err, &v) {
		// The page has two forms with an email: the messages go to this one.
		f := views.NewForm()
		f.Values[inviteFieldPrefix+"email"], f.Values[inviteFieldPrefix+"role"] = email, role
		for k, msg := range v.Fields {
			f.Errors[inviteFieldPrefix+k] = msg
		}
		c.Set(adminFormKey, f)
		return h.adminRelist(c, adminReturn(c, "/admin/members"), http.StatusUnprocessableEntity,
			&views.Flash{Kind: "error", Message: "No invitation was made: " + validationMessage(v)}, h.adminMembers)
	} else if err != nil {
		return err
	}
	link := absoluteURL(c, "/invite/"+token)
	msg := fmt.Sprintf("%s is invited as %s. Copy the link below and send it to them: FleetPrompt sends no e-mail.", inv.Email, inv.Role)
	if !isHTMX(c) {
		s := h.cookieSession(c)
		s.Values[inviteLinkKey] = link
		h.flash(c, "info", msg) // saves the session, link included
		return redirect(c, adminReturn(c, "/admin/members"))
	}
	c.Set(inviteLinkKey, link)
	return h.adminRelist(c, adminReturn(c, "/admin/members"), http.StatusOK, &views.Flash{Kind: "info", Message: msg}, h.adminMembers)
}

// takeInviteLink returns the link adminInvite just made for this admin,
// once: from the request (htmx) or the session (after the 303).
func (h *Handler) takeInviteLink(c *gin.Context) string {
	if v, ok := c.Get(inviteLinkKey); ok {
		return v.(string)
	}
	s := h.cookieSession(c)
	link, ok := s.Values[inviteLinkKey].(string)
	if !ok {
		return ""
	}
	delete(s.Values, inviteLinkKey)
	if err := s.Save(c.Request, c.Writer); err != nil {
		h.log.Warn("save session", "err", err)
	}
	return link
}
