package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// adminMemberAdd is POST /admin/members (email, role): add an existing
// user. Invalid input re-renders the page with the form's messages and
// the input kept (422).
func (h *Handler) adminMemberAdd(c *gin.Context) error {
	f := views.NewForm()
	f.Values["email"], f.Values["role"] = c.PostForm("email"), c.PostForm("role")
	m, err := h.store.AddMember(c.Request.Context(), tenant(c), authOf(c).Session.UserID, f.Values["email"], f.Values["role"])
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		c.Set(adminFormKey, f)
		return h.adminRelist(c, adminReturn(c, "/admin/members"), http.StatusUnprocessableEntity,
			&views.Flash{Kind: "error", Message: "The member was not added: " + validationMessage(v)}, h.adminMembers)
	} else if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s is now %s of %s.", m.Name, article(m.Role), authOf(c).Member.OrgName)
	if !isHTMX(c) {
		h.flash(c, "info", msg)
		return redirect(c, adminReturn(c, "/admin/members"))
	}
	return h.adminRelist(c, adminReturn(c, "/admin/members"), http.StatusOK, &views.Flash{Kind: "info", Message: msg}, h.adminMembers)
}

// adminMemberUpdate is POST /admin/members/:user_id (role and/or status).
// A user who is not a member of this organization is 404.
func (h *Handler) adminMemberUpdate(c *gin.Context) error {
	userID, err := strconv.ParseInt(c.Param("user_id"), 10, 64)
	if err != nil {
		return store.ErrNotFound
	}
	return h.adminAct(c, "/admin/members", h.adminMembers, func(ctx context.Context) (string, error) {
		m, err := h.store.UpdateMember(ctx, tenant(c), authOf(c).Session.UserID, userID,
			store.MemberChange{Role: c.PostForm("role"), Status: c.PostForm("status")})
		if err != nil {
			return "", err
		}
		// Their cached sessions (role, memberships) go, in every process.
		h.userChanged(ctx, userID)
		// A disabled member's open event streams end now, in every process,
		// not at the hub's next periodic re-check.
		if m.Status == store.StatusDisabled && h.live != nil {
			if err := h.live.EndMember(ctx, tenant(c).OrgID, userID); err != nil {
				h.log.Warn("end disabled member's streams", "user_id", userID, "err", err)
			}
		}
		return fmt.Sprintf("%s is %s, %s.", m.Name, article(m.Role), m.Status), nil
	})
}
