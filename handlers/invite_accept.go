package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

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
