package handlers

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
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

// article puts "an" or "a" before a role.
func article(role string) string {
	if role == store.RoleOwner || role == store.RoleAdmin {
		return "an " + role
	}
	return "a " + role
}
