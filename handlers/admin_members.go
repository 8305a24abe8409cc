package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// adminMembersData is the members table.
type adminMembersData struct {
	Members []store.Member
	// ActorIsOwner shows the owner-only controls (making, unmaking and
	// disabling owners); the store checks again.
	ActorIsOwner bool
	ActorUserID  int64
	Roles        []string
	Statuses     []string
	// InviteRoles are the roles an invitation may give; InviteLink is the
	// link just made, shown this once.
	InviteRoles []string
	InviteLink  string
	Now         time.Time
}

// Expiry says how long an invited member's link still works.
func (d adminMembersData) Expiry(m store.Member) string { return inviteExpiry(m, d.Now) }

// RolesFor returns the roles the actor may give m (or a new member).
func (d adminMembersData) RolesFor() []string {
	if d.ActorIsOwner {
		return store.MemberRoles
	}
	return []string{store.RoleAdmin, store.RoleMember}
}

// CanChange reports whether the actor may change m at all.
func (d adminMembersData) CanChange(m store.Member) bool {
	return d.ActorIsOwner || m.Role != store.RoleOwner
}

// adminMembers is GET /admin/members?role=&status=&q=&after=.
func (h *Handler) adminMembers(c *gin.Context) error {
	v := newAdminView(c, "members")
	after, err := store.ParseIDCursor("after", v.Q("after"))
	if err != nil {
		return err
	}
	a := authOf(c)
	page, err := h.store.ListMembers(c.Request.Context(), a.Member.OrgID, store.MemberFilter{
		Role: v.Q("role"), Status: v.Q("status"), Query: v.Q("q"), After: after, Limit: v.Limit(),
	})
	if err != nil {
		return err
	}
	next := ""
	if page.Next > 0 {
		next = strconv.FormatInt(page.Next, 10)
	}
	v.pageLinks("/admin/members", "after", next)
	v.List = adminMembersData{Members: page.Members, ActorIsOwner: a.Member.Role == store.RoleOwner,
		ActorUserID: a.Session.UserID, Roles: store.MemberRoles,
		Statuses:    []string{store.StatusActive, store.StatusDisabled, store.StatusInvited},
		InviteRoles: store.InvitationRoles, InviteLink: h.takeInviteLink(c), Now: time.Now()}
	return h.adminRender(c, "admin_members", "Members", v)
}

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

// article puts "an" or "a" before a role.
func article(role string) string {
	if role == store.RoleOwner || role == store.RoleAdmin {
		return "an " + role
	}
	return "a " + role
}
