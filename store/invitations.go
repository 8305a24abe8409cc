package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Invitations by link (SPEC §16). An owner or admin invites an email with
// a role: that makes an `invited` membership (which grants nothing) and a
// link /invite/<token>, shown once to the admin to send themselves.
// Whoever opens the link sets a name and password (or, signed in with
// that email, accepts with one button); the membership becomes active.
// A link works once, for InvitationTTL, and can be revoked.

// InvitationTTL is how long an invitation's link works.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation states, as Invitation.State tells them.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
	InvitationExpired  = "expired"
)

// InvitationRoles are the roles an invitation may give: owners are made
// from the members list once the person has joined.
var InvitationRoles = []string{RoleMember, RoleAdmin}

// Invitation is one invitation link and what became of it.
type Invitation struct {
	ID      int64  `db:"id"`
	OrgID   int64  `db:"organization_id"`
	OrgName string `db:"org_name"`
	OrgSlug string `db:"org_slug"`
	Email   string `db:"email"`
	Role    string `db:"role"`
	// InvitedBy is the inviter's name ("" when their account is gone).
	InvitedBy  string       `db:"invited_by"`
	CreatedAt  time.Time    `db:"created_at"`
	ExpiresAt  time.Time    `db:"expires_at"`
	AcceptedAt sql.NullTime `db:"accepted_at"`
	RevokedAt  sql.NullTime `db:"revoked_at"`
	// HasAccount reports that someone has an account with Email already:
	// they sign in to accept instead of making one.
	HasAccount   bool          `db:"has_account"`
	MembershipID sql.NullInt64 `db:"membership_id"`
}

// Tenant is the inviting organization's schema handle.
func (i Invitation) Tenant() Tenant { return Tenant{OrgID: i.OrgID, Slug: i.OrgSlug} }

// State is what the link can still do at now: pending (it works),
// accepted, revoked or expired.
func (i Invitation) State(now time.Time) string {
	switch {
	case i.AcceptedAt.Valid:
		return InvitationAccepted
	case i.RevokedAt.Valid:
		return InvitationRevoked
	case !i.ExpiresAt.After(now):
		return InvitationExpired
	}
	return InvitationPending
}

// InvitationGoneError is an invitation whose link no longer works; State
// says why (accepted, revoked or expired).
type InvitationGoneError struct{ State string }

func (e *InvitationGoneError) Error() string { return "invitation " + e.State }

const invitationSelect = `SELECT i.id, i.organization_id, o.name AS org_name, o.slug AS org_slug, i.email, i.role,
		coalesce(iu.name, '') AS invited_by, i.created_at, i.expires_at, i.accepted_at, i.revoked_at,
		EXISTS (SELECT 1 FROM users x WHERE lower(x.email) = lower(i.email)) AS has_account, i.membership_id
	  FROM invitations i JOIN organizations o ON o.id = i.organization_id
	  LEFT JOIN users iu ON iu.id = i.invited_by_user_id `

// invitationsSource is the signals' source for invitations.
const invitationsSource = "invitations"

// Invite makes an invited membership of email with role (member or admin)
// and returns it with the link's token, which exists nowhere else: only
// its hash is stored. member.invited is emitted in the same transaction.
// Only owners and admins may invite (ErrForbidden). A bad email or role,
// someone already a member, or an open invitation of the same email is a
// *ValidationError; an expired one of the same email is replaced.
func (s *Store) Invite(ctx context.Context, t Tenant, actorUserID int64, email, role string) (Invitation, string, error) {
	email = strings.TrimSpace(email)
	v := &ValidationError{}
	if msg := checkEmail(email); msg != "" {
		v.Add("email", msg)
	}
	if role == RoleOwner {
		v.Add("role", "invite as admin or member; make them an owner once they have joined")
	} else if msg := roleMessage(role); msg != "" {
		v.Add("role", fmt.Sprintf("%q is not a role; choose admin or member", role))
	}
	if err := v.OrNil(); err != nil {
		return Invitation{}, "", err
	}
	token, err := NewSessionToken() // 32 random bytes, URL-safe
	if err != nil {
		return Invitation{}, "", err
	}
	var inv Invitation
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := lockMembersAsAdmin(ctx, tx, t.OrgID, actorUserID)
		if err != nil {
			return err
		}
		if err := checkInvitable(ctx, tx, t.OrgID, email); err != nil {
			return err
		}
		var membershipID int64
		if err := tx.GetContext(ctx, &membershipID, `INSERT INTO organization_memberships (organization_id, role, status, invited_email)
			VALUES ($1, $2, 'invited', $3) RETURNING id`, t.OrgID, role, email); err != nil {
			return fmt.Errorf("insert invited membership: %w", err)
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO invitations (organization_id, membership_id, email, role, token_hash, invited_by_user_id, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, now() + $7 * interval '1 second') RETURNING id`,
			t.OrgID, membershipID, email, role, tokenHash(token), actorUserID, int64(InvitationTTL/time.Second)); err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		if inv, err = invitationWhere(ctx, tx, `i.id = $1`, id); err != nil {
			return err
		}
		return s.emitInvitation(ctx, tx, t, actorUserID, "member.invited", inv)
	})
	return inv, token, err
}

// checkInvitable refuses an email that is a member's already or has an
// open invitation, and removes the invited membership of an expired one
// (its invitation stays, expired, for the link to say so).
func checkInvitable(ctx context.Context, tx *sqlx.Tx, orgID int64, email string) error {
	var member struct {
		Role   string `db:"role"`
		Status string `db:"status"`
	}
	err := tx.GetContext(ctx, &member, `SELECT m.role, m.status FROM organization_memberships m JOIN users u ON u.id = m.user_id
		WHERE m.organization_id = $1 AND lower(u.email) = lower($2)`, orgID, email)
	if err == nil {
		return Invalid("email", fmt.Sprintf("%s is already a member (%s, %s)", email, member.Role, member.Status))
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("find member: %w", err)
	}
	var open struct {
		MembershipID int64        `db:"id"`
		ExpiresAt    sql.NullTime `db:"expires_at"`
		Live         bool         `db:"live"`
	}
	err = tx.GetContext(ctx, &open, `SELECT m.id, i.expires_at, coalesce(i.expires_at > now(), false) AS live
		  FROM organization_memberships m
		  LEFT JOIN invitations i ON i.membership_id = m.id AND i.accepted_at IS NULL AND i.revoked_at IS NULL
		 WHERE m.organization_id = $1 AND m.user_id IS NULL AND lower(m.invited_email) = lower($2)`, orgID, email)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("find invitation: %w", err)
	case open.Live:
		return Invalid("email", fmt.Sprintf("%s is invited already (the link works until %s): revoke that invitation to make a new link",
			email, open.ExpiresAt.Time.UTC().Format("2 Jan 15:04 UTC")))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM organization_memberships WHERE id = $1`, open.MembershipID); err != nil {
		return fmt.Errorf("remove expired invitation: %w", err)
	}
	return nil
}

// checkNotInvited refuses to add by email someone who has an open
// invitation: accepting it would then find them a member already.
func checkNotInvited(ctx context.Context, tx *sqlx.Tx, orgID int64, email string) error {
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM organization_memberships
		WHERE organization_id = $1 AND user_id IS NULL AND lower(invited_email) = lower($2)`, orgID, email); err != nil {
		return fmt.Errorf("find invitation: %w", err)
	}
	if n > 0 {
		return Invalid("email", fmt.Sprintf("%s has an invitation already: let them accept it, or revoke it first", email))
	}
	return nil
}

func invitationWhere(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (Invitation, error) {
	var inv Invitation
	err := sqlx.GetContext(ctx, q, &inv, invitationSelect+`WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, ErrNotFound
	} else if err != nil {
		return inv, fmt.Errorf("invitation: %w", err)
	}
	return inv, nil
}

// tokenShaped reports whether s can be a token NewSessionToken made: 43
// URL-safe base64 characters. Anything else is not found without a query.
func tokenShaped(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// InvitationByToken finds the invitation of a link, whatever its state
// (State tells); an unknown token is ErrNotFound.
func (s *Store) InvitationByToken(ctx context.Context, token string) (Invitation, error) {
	if !tokenShaped(token) {
		return Invitation{}, ErrNotFound
	}
	return invitationWhere(ctx, s.DB, `i.token_hash = $1`, tokenHash(token))
}

// emitInvitation records an invitation fact in the organization's
// signals; the subject is the invitation (there may be no user yet).
func (s *Store) emitInvitation(ctx context.Context, tx *sqlx.Tx, t Tenant, actorUserID int64, name string, inv Invitation) error {
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
		Name: name,
		Payload: map[string]any{"invitation_id": inv.ID, "email": inv.Email, "role": inv.Role,
			"expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)},
		Actor:   UserActor(actorUserID),
		Subject: Subject{Type: "invitation", ID: idText(inv.ID)},
		Source:  invitationsSource,
	})
	return err
}
