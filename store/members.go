package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Member is one person's membership of an organization, as the admin's
// members page lists it.
type Member struct {
	ID int64 `db:"id"` // the membership row: the list's cursor
	// UserID is 0 for an invitation not accepted yet: it names an Email,
	// not a user (Name and Handle are "").
	UserID    int64     `db:"user_id"`
	Email     string    `db:"email"`
	Name      string    `db:"name"`
	Handle    string    `db:"handle"`
	Role      string    `db:"role"`
	Status    string    `db:"status"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
	// InvitationID and InvitationExpiresAt describe the open invitation of
	// an invited membership (0 and zero otherwise).
	InvitationID        int64        `db:"invitation_id"`
	InvitationExpiresAt sql.NullTime `db:"invitation_expires_at"`
}

// Active reports whether the membership grants anything.
func (m Member) Active() bool { return m.Status == StatusActive }

// Invited reports whether the membership is an invitation not accepted yet.
func (m Member) Invited() bool { return m.Status == StatusInvited }

// InvitationExpired reports whether an invited membership's link no
// longer works (revoke it, or invite again to make a new one).
func (m Member) InvitationExpired(now time.Time) bool {
	return m.Invited() && (!m.InvitationExpiresAt.Valid || !m.InvitationExpiresAt.Time.After(now))
}

// MemberRoles lists the roles in rank order, for forms.
var MemberRoles = []string{RoleOwner, RoleAdmin, RoleMember}

// membersSource is the signals' source for membership changes.
const membersSource = "members"

// MemberFilter selects members for ListMembers; empty fields do not filter.
type MemberFilter struct {
	Role   string
	Status string
	// Query matches the email or name, case-insensitively, anywhere.
	Query string
	// After is the cursor: only memberships with a larger id (the
	// previous page's Next).
	After int64
	Limit int // default 50, at most 200
}

// MemberPage is one page of members in the order they joined. Next is the
// cursor of the following page, 0 on the last.
type MemberPage struct {
	Members []Member
	Next    int64
}

// memberSelect reads memberships with their person: the user, or for an
// invitation not accepted yet the invited email and the open invitation.
const memberSelect = `SELECT m.id, coalesce(m.user_id, 0) AS user_id, coalesce(u.email, m.invited_email) AS email,
		coalesce(u.name, '') AS name, coalesce(u.handle, '') AS handle, m.role, m.status, m.created_at, m.updated_at,
		coalesce(i.id, 0) AS invitation_id, i.expires_at AS invitation_expires_at
	  FROM organization_memberships m LEFT JOIN users u ON u.id = m.user_id
	  LEFT JOIN invitations i ON m.user_id IS NULL AND i.membership_id = m.id AND i.accepted_at IS NULL AND i.revoked_at IS NULL `

// ListMembers pages through an organization's memberships, every status.
func (s *Store) ListMembers(ctx context.Context, orgID int64, f MemberFilter) (MemberPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	where := []string{"m.organization_id = $1", "m.id > $2"}
	args := []any{orgID, f.After}
	if f.Role != "" {
		args = append(args, f.Role)
		where = append(where, fmt.Sprintf("m.role = $%d", len(args)))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("m.status = $%d", len(args)))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		args = append(args, "%"+likeEscape(strings.ToLower(q))+"%")
		where = append(where, fmt.Sprintf("(lower(coalesce(u.email, m.invited_email)) LIKE $%[1]d OR lower(u.name) LIKE $%[1]d OR u.handle LIKE $%[1]d)", len(args)))
	}
	args = append(args, limit+1)
	q := memberSelect + `WHERE ` + strings.Join(where, " AND ") + fmt.Sprintf(` ORDER BY m.id LIMIT $%d`, len(args))
	var page MemberPage
	if err := s.DB.SelectContext(ctx, &page.Members, q, args...); err != nil {
		return page, fmt.Errorf("list members: %w", err)
	}
	if len(page.Members) > limit {
		page.Members = page.Members[:limit]
		page.Next = page.Members[limit-1].ID
	}
	return page, nil
}

// MemberByUserID returns one membership of the organization; a user who is
// not a member (of this organization) is ErrNotFound.
func (s *Store) MemberByUserID(ctx context.Context, orgID, userID int64) (Member, error) {
	return memberByUserID(ctx, s.DB, orgID, userID)
}

func memberByUserID(ctx context.Context, q sqlx.QueryerContext, orgID, userID int64) (Member, error) {
	var m Member
	err := sqlx.GetContext(ctx, q, &m, memberSelect+`WHERE m.organization_id = $1 AND m.user_id = $2`, orgID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	} else if err != nil {
		return m, fmt.Errorf("member %d: %w", userID, err)
	}
	return m, nil
}

// lockMembers locks every membership row of the organization for the rest
// of tx and returns the actor's current role there. Every change to who
// holds which role takes this lock first, so two owners demoting each
// other at the same moment run one after the other, and the second sees
// the first's result (and is refused) instead of both succeeding and
// leaving no owner. The actor's role is read under the lock, not taken from
// their session, for the same reason.
func lockMembers(ctx context.Context, tx *sqlx.Tx, orgID, actorUserID int64) (actorRole string, err error) {
	type row struct {
		UserID int64  `db:"user_id"`
		Role   string `db:"role"`
		Status string `db:"status"`
	}
	var rows []row
	if err := tx.SelectContext(ctx, &rows, `SELECT coalesce(user_id, 0) AS user_id, role, status FROM organization_memberships
		WHERE organization_id = $1 ORDER BY id FOR UPDATE`, orgID); err != nil {
		return "", fmt.Errorf("lock memberships: %w", err)
	}
	for _, r := range rows {
		if r.UserID == actorUserID && r.Status == StatusActive {
			return r.Role, nil
		}
	}
	return "", nil
}

// lockMembersAsAdmin is lockMembers for a change only owners and admins
// may make: ErrForbidden for anyone else.
func lockMembersAsAdmin(ctx context.Context, tx *sqlx.Tx, orgID, actorUserID int64) (actorRole string, err error) {
	if actorRole, err = lockMembers(ctx, tx, orgID, actorUserID); err != nil {
		return "", err
	}
	if !IsAdminRole(actorRole) {
		return "", ErrForbidden
	}
	return actorRole, nil
}

// roleMessage returns why role is not a role, or "".
func roleMessage(role string) string {
	for _, r := range MemberRoles {
		if role == r {
			return ""
		}
	}
	return fmt.Sprintf("%q is not a role; choose owner, admin or member", role)
}

// AddMember makes an existing user (found by email, case-insensitively) an
// active member of the organization with role, and emits member.added in
// the same transaction. Only owners and admins may add members, and only
// owners may add owners (ErrForbidden). An unknown email, a user who is
// already a member, or a bad role is a *ValidationError.
func (s *Store) AddMember(ctx context.Context, t Tenant, actorUserID int64, email, role string) (Member, error) {
	email = strings.TrimSpace(email)
	v := &ValidationError{}
	if email == "" {
		v.Add("email", "can't be blank")
	}
	if msg := roleMessage(role); msg != "" {
		v.Add("role", msg)
	}
	if err := v.OrNil(); err != nil {
		return Member{}, err
	}
	var m Member
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		actorRole, err := lockMembersAsAdmin(ctx, tx, t.OrgID, actorUserID)
		if err != nil {
			return err
		}
		if role == RoleOwner && actorRole != RoleOwner {
			return ErrForbidden
		}
		var userID int64
		err = tx.GetContext(ctx, &userID, `SELECT id FROM users WHERE lower(email) = lower($1)`, email)
		if errors.Is(err, sql.ErrNoRows) {
			return Invalid("email", fmt.Sprintf("no one has an account with %s yet: they must register first", email))
		} else if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		if existing, err := memberByUserID(ctx, tx, t.OrgID, userID); err == nil {
			return Invalid("email", fmt.Sprintf("%s is already a member (%s, %s)", existing.Email, existing.Role, existing.Status))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := checkNotInvited(ctx, tx, t.OrgID, email); err != nil {
			return err
		}
		if err := addMember(ctx, tx, t.OrgID, userID, role); err != nil {
			return err
		}
		if m, err = memberByUserID(ctx, tx, t.OrgID, userID); err != nil {
			return err
		}
		return s.emitMember(ctx, tx, t, actorUserID, "member.added", m, map[string]any{"role": m.Role})
	})
	return m, err
}

// MemberChange is an edit of one membership; empty fields stay as they are.
type MemberChange struct {
	Role   string // owner, admin or member
	Status string // active or disabled
}

func (ch MemberChange) validate() error {
	v := &ValidationError{}
	if ch.Role != "" {
		if msg := roleMessage(ch.Role); msg != "" {
			v.Add("role", msg)
		}
	}
	if ch.Status != "" && ch.Status != StatusActive && ch.Status != StatusDisabled {
		v.Add("status", fmt.Sprintf("%q is not a status; choose active or disabled", ch.Status))
	}
	if ch.Role == "" && ch.Status == "" {
		v.Add("", "choose a role or a status")
	}
	return v.OrNil()
}

// UpdateMember changes a member's role and/or status, emitting
// member.role_changed, member.disabled or member.enabled in the same
// transaction. Only owners and admins may change members, and only owners
// may change an owner or make one (ErrForbidden). The last active owner
// can be neither demoted nor disabled: a *ValidationError says so. A
// change to nothing succeeds and emits nothing.
func (s *Store) UpdateMember(ctx context.Context, t Tenant, actorUserID, userID int64, ch MemberChange) (Member, error) {
	var m Member
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		// Refusals in order: the actor's role (403), a user who is no
		// member here (404, whatever else the form says), then the input.
		actorRole, err := lockMembersAsAdmin(ctx, tx, t.OrgID, actorUserID)
		if err != nil {
			return err
		}
		before, err := memberByUserID(ctx, tx, t.OrgID, userID)
		if err != nil {
			return err
		}
		if err := ch.validate(); err != nil {
			return err
		}
		after := before
		if ch.Role != "" {
			after.Role = ch.Role
		}
		if ch.Status != "" {
			after.Status = ch.Status
		}
		if after.Role == before.Role && after.Status == before.Status {
			m = before
			return nil
		}
		if (before.Role == RoleOwner || after.Role == RoleOwner) && actorRole != RoleOwner {
			return ErrForbidden
		}
		wasOwner := before.Role == RoleOwner && before.Active()
		if wasOwner && !(after.Role == RoleOwner && after.Active()) {
			var others int
			if err := tx.GetContext(ctx, &others, `SELECT count(*) FROM organization_memberships
				WHERE organization_id = $1 AND role = 'owner' AND status = 'active' AND user_id <> $2`, t.OrgID, userID); err != nil {
				return fmt.Errorf("count owners: %w", err)
			}
			if others == 0 {
				field, what := "role", "demoted"
				if after.Role == RoleOwner {
					field, what = "status", "disabled"
				}
				return Invalid(field, fmt.Sprintf("%s is the last active owner and cannot be %s: make someone else an owner first", before.Email, what))
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE organization_memberships SET role = $3, status = $4, updated_at = now()
			WHERE organization_id = $1 AND user_id = $2`, t.OrgID, userID, after.Role, after.Status); err != nil {
			return fmt.Errorf("update member %d: %w", userID, err)
		}
		if m, err = memberByUserID(ctx, tx, t.OrgID, userID); err != nil {
			return err
		}
		if before.Role != after.Role {
			if err := s.emitMember(ctx, tx, t, actorUserID, "member.role_changed", m, map[string]any{"from": before.Role, "to": after.Role}); err != nil {
				return err
			}
		}
		if before.Status != after.Status {
			name := "member.enabled"
			if after.Status == StatusDisabled {
				name = "member.disabled"
			}
			if err := s.emitMember(ctx, tx, t, actorUserID, name, m, map[string]any{"from": before.Status, "to": after.Status}); err != nil {
				return err
			}
		}
		return nil
	})
	return m, err
}

// emitMember records a membership fact in the organization's signals. The
// subject is the user, so the live layer can end a disabled member's
// streams.
func (s *Store) emitMember(ctx context.Context, tx *sqlx.Tx, t Tenant, actorUserID int64, name string, m Member, extra map[string]any) error {
	payload := map[string]any{"user_id": m.UserID, "email": m.Email, "name": m.Name, "role": m.Role, "status": m.Status}
	for k, v := range extra {
		payload[k] = v
	}
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
		Name:    name,
		Payload: payload,
		Actor:   UserActor(actorUserID),
		Subject: Subject{Type: "user", ID: strconv.FormatInt(m.UserID, 10)},
		Source:  membersSource,
	})
	return err
}

// AdministeredOrganizations lists the organizations where userID is an
// active owner or admin, by name: the ones /admin/tenant may switch to.
func (s *Store) AdministeredOrganizations(ctx context.Context, userID int64) ([]Membership, error) {
	var out []Membership
	err := s.DB.SelectContext(ctx, &out, `
		SELECT o.id AS org_id, o.name AS org_name, o.slug AS org_slug, o.tier AS org_tier, m.role
		  FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id
		 WHERE m.user_id = $1 AND m.status = 'active' AND m.role IN ('owner', 'admin')
		 ORDER BY lower(o.name), o.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("administered organizations: %w", err)
	}
	return out, nil
}

// CountMembers returns how many active members the organization has.
func (s *Store) CountMembers(ctx context.Context, orgID int64) (int, error) {
	var n int
	err := s.DB.GetContext(ctx, &n, `SELECT count(*) FROM organization_memberships WHERE organization_id = $1 AND status = 'active'`, orgID)
	if err != nil {
		return 0, fmt.Errorf("count members: %w", err)
	}
	return n, nil
}
