package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Acceptance is someone taking up an invitation through its link.
type Acceptance struct {
	Token string
	// UserID is the signed-in person accepting (their email must be the
	// invited one), or 0 for a new account with Name and Password and the
	// invited email.
	UserID   int64
	Name     string
	Password string
}

// AcceptInvitation makes the invitation's membership active for the
// accepting user — a new account, or the signed-in one — and marks the
// link used, with member.joined, in one transaction: a link works once
// even when two tabs post it together (the second finds it accepted).
//
// An unknown token is ErrNotFound; a used, revoked or expired one an
// *InvitationGoneError; a signed-in user with another email ErrForbidden;
// a bad name or password, or an account that exists already for the
// email (sign in instead), a *ValidationError.
func (s *Store) AcceptInvitation(ctx context.Context, a Acceptance) (User, Invitation, error) {
	// The link's state answers first, before the form's messages.
	inv, err := s.InvitationByToken(ctx, a.Token)
	if err != nil {
		return User{}, inv, err
	}
	if st := inv.State(time.Now()); st != InvitationPending {
		return User{}, inv, &InvitationGoneError{State: st}
	}
	var hash []byte
	if a.UserID == 0 {
		a.Name = strings.TrimSpace(a.Name)
		v := &ValidationError{}
		checkName(v, "name", a.Name)
		checkPassword(v, "password", a.Password)
		if err := v.OrNil(); err != nil {
			return User{}, inv, err
		}
		if hash, err = hashPassword(a.Password, s.BcryptCost); err != nil {
			return User{}, inv, err
		}
	}
	var u User
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		// The members lock first, as every membership change takes it
		// (lockMembers), then the invitation's row, as revocation does.
		if _, err := lockMembers(ctx, tx, inv.OrgID, a.UserID); err != nil {
			return err
		}
		var err error
		if inv, err = invitationWhere(ctx, tx, `i.id = $1 FOR UPDATE OF i`, inv.ID); err != nil {
			return err
		}
		if st := invitationStateNow(ctx, tx, inv); st != InvitationPending {
			return &InvitationGoneError{State: st}
		}
		if u, err = s.accepter(ctx, tx, a, inv, hash); err != nil {
			return err
		}
		return s.join(ctx, tx, inv, u)
	})
	return u, inv, err
}

// invitationStateNow is inv's state by the database's clock, which every
// process shares.
func invitationStateNow(ctx context.Context, tx *sqlx.Tx, inv Invitation) string {
	var now time.Time
	if err := tx.GetContext(ctx, &now, `SELECT now()`); err != nil {
		now = time.Now()
	}
	return inv.State(now)
}

// accepter is the user taking up inv: the signed-in one when their email
// is the invited one, or a new account with that email.
func (s *Store) accepter(ctx context.Context, tx *sqlx.Tx, a Acceptance, inv Invitation, hash []byte) (User, error) {
	if a.UserID != 0 {
		var u User
		if err := tx.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1`, a.UserID); err != nil {
			return u, fmt.Errorf("find accepting user: %w", err)
		}
		if !strings.EqualFold(u.Email, inv.Email) {
			return u, ErrForbidden
		}
		return u, nil
	}
	u, err := insertUser(ctx, tx, inv.Email, string(hash), a.Name)
	if errors.Is(err, errEmailTaken) {
		return u, Invalid("", fmt.Sprintf("There is an account with %s already: sign in, then open this link again to accept.", inv.Email))
	}
	return u, err
}

// join makes inv's membership active for u and records it.
func (s *Store) join(ctx context.Context, tx *sqlx.Tx, inv Invitation, u User) error {
	if existing, err := memberByUserID(ctx, tx, inv.OrgID, u.ID); err == nil {
		return Invalid("", fmt.Sprintf("You are already a member of %s (%s, %s).", inv.OrgName, existing.Role, existing.Status))
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE organization_memberships SET user_id = $2, status = 'active', invited_email = NULL, updated_at = now()
		WHERE id = $1 AND user_id IS NULL AND status = 'invited'`, inv.MembershipID, u.ID)
	if err != nil {
		return fmt.Errorf("activate membership: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &InvitationGoneError{State: InvitationRevoked} // its membership went with a revocation
	}
	if _, err := tx.ExecContext(ctx, `UPDATE invitations SET accepted_at = now(), accepted_by_user_id = $2 WHERE id = $1`, inv.ID, u.ID); err != nil {
		return fmt.Errorf("mark invitation accepted: %w", err)
	}
	m, err := memberByUserID(ctx, tx, inv.OrgID, u.ID)
	if err != nil {
		return err
	}
	return s.emitMember(ctx, tx, inv.Tenant(), u.ID, "member.joined", m, map[string]any{"invitation_id": inv.ID})
}

// RevokeInvitation withdraws an open invitation of the organization: its
// link stops working and its invited membership is removed, with
// member.invitation_revoked. Only owners and admins may (ErrForbidden);
// another organization's invitation is ErrNotFound; an accepted one is a
// *ValidationError (disable the member instead). Revoking twice changes
// nothing the second time.
func (s *Store) RevokeInvitation(ctx context.Context, t Tenant, actorUserID, invitationID int64) (Invitation, error) {
	var inv Invitation
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		_, err := lockMembersAsAdmin(ctx, tx, t.OrgID, actorUserID)
		if err != nil {
			return err
		}
		if inv, err = invitationWhere(ctx, tx, `i.id = $1 AND i.organization_id = $2 FOR UPDATE OF i`, invitationID, t.OrgID); err != nil {
			return err
		}
		switch {
		case inv.AcceptedAt.Valid:
			return Invalid("", fmt.Sprintf("%s accepted this invitation already: disable the member instead.", inv.Email))
		case inv.RevokedAt.Valid:
			return nil
		}
		if err := tx.GetContext(ctx, &inv.RevokedAt, `UPDATE invitations SET revoked_at = now(), revoked_by_user_id = $2
			WHERE id = $1 RETURNING revoked_at`, inv.ID, actorUserID); err != nil {
			return fmt.Errorf("revoke invitation %d: %w", inv.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM organization_memberships WHERE id = $1 AND user_id IS NULL AND status = 'invited'`,
			inv.MembershipID); err != nil {
			return fmt.Errorf("remove invited membership: %w", err)
		}
		return s.emitInvitation(ctx, tx, t, actorUserID, "member.invitation_revoked", inv)
	})
	return inv, err
}
