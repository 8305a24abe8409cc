package store

import (
	"context"
	"database/sql"
	"errors"
)

// SelectAdministeredOrganization switches the session to the organization
// with slug, like SelectOrganization, but only where the user is an active
// owner or admin: the check and the switch are one statement, so a role
// taken away meanwhile cannot slip through. ErrNotFound when the user is
// no active member there, ErrForbidden when they are a plain member.
func (s *Store) SelectAdministeredOrganization(ctx context.Context, token, slug string) (Membership, error) {
	var m Membership
	err := s.DB.GetContext(ctx, &m, `
		UPDATE sessions s SET org_id = o.id
		  FROM organizations o JOIN organization_memberships m ON m.organization_id = o.id
		 WHERE s.token_hash = $1 AND o.slug = $2 AND m.user_id = s.user_id AND m.status = 'active'
		   AND m.role IN ('owner', 'admin')
		RETURNING o.id AS org_id, o.name AS org_name, o.slug AS org_slug, o.tier AS org_tier, m.role`, tokenHash(token), slug)
	if !errors.Is(err, sql.ErrNoRows) {
		return m, err
	}
	// Refused: tell a plain member (403) from a stranger (404).
	var role string
	err = s.DB.GetContext(ctx, &role, `
		SELECT m.role FROM sessions s JOIN organization_memberships m ON m.user_id = s.user_id
		  JOIN organizations o ON o.id = m.organization_id
		 WHERE s.token_hash = $1 AND o.slug = $2 AND m.status = 'active'`, tokenHash(token), slug)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	} else if err != nil {
		return m, err
	}
	return m, ErrForbidden
}
