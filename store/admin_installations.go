package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// InstallationFilter selects installations for the admin's table; empty
// fields do not filter.
type InstallationFilter struct {
	Status string
	// After is the cursor: the last package slug of the previous page.
	After string
	Limit int // default 50, at most 200
}

// InstallationPage is one page of installations by package slug. Next is
// "" on the last.
type InstallationPage struct {
	Installations []Installation
	Next          string
}

// AdminInstallations pages through the tenant's installations by package
// slug (unique per tenant, so a stable keyset).
func (s *Store) AdminInstallations(ctx context.Context, t Tenant, f InstallationFilter) (InstallationPage, error) {
	limit := clampLimit(f.Limit, 200)
	where := []string{"package_slug > $1"}
	args := []any{f.After}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("status = $%d", len(args)))
	}
	args = append(args, limit+1)
	q := `SELECT ` + installationColumns + ` FROM {tenant}.package_installations WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY package_slug LIMIT $%d`, len(args))
	var page InstallationPage
	if err := s.DB.SelectContext(ctx, &page.Installations, t.SQL(q), args...); err != nil {
		return page, fmt.Errorf("list installations: %w", err)
	}
	if len(page.Installations) > limit {
		page.Installations = page.Installations[:limit]
		page.Next = page.Installations[limit-1].PackageSlug
	}
	return page, nil
}

// SetInstallationEnabled turns an installed package off (status disabled,
// enabled false) or a disabled one back on (installed, enabled true), with
// its package.installation.disabled or .enabled signal in the same
// transaction. Installations still being installed, or failed, are a
// *ValidationError: there is nothing to switch yet. A foreign or unknown
// id is ErrNotFound; switching to the state it is in changes nothing.
func (s *Store) SetInstallationEnabled(ctx context.Context, t Tenant, actorUserID int64, id string, enabled bool) (Installation, error) {
	var in Installation
	if !IsUUID(id) {
		return in, ErrNotFound
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &in, t.SQL(`SELECT `+installationColumns+` FROM {tenant}.package_installations WHERE id = $1 FOR UPDATE`), id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("installation %s: %w", id, err)
		}
		from, to, name := InstallInstalled, InstallDisabled, "package.installation.disabled"
		if enabled {
			from, to, name = InstallDisabled, InstallInstalled, "package.installation.enabled"
		}
		if in.Status == to && in.Enabled == enabled {
			return nil
		}
		if in.Status != from {
			return Invalid("enabled", fmt.Sprintf("%s is %s: only an installed package can be disabled, and only a disabled one enabled", in.PackageName, in.Status))
		}
		if err := tx.GetContext(ctx, &in, t.SQL(`UPDATE {tenant}.package_installations SET status = $2, enabled = $3, updated_at = now()
			WHERE id = $1 RETURNING `+installationColumns), id, to, enabled); err != nil {
			return fmt.Errorf("switch installation %s: %w", id, err)
		}
		_, _, err = s.EmitSignal(ctx, tx, t, NewSignal{
			Name:    name,
			Payload: map[string]any{"installation_id": in.ID, "package_slug": in.PackageSlug, "package_name": in.PackageName, "enabled": enabled},
			Actor:   UserActor(actorUserID),
			Subject: Subject{Type: "package", ID: in.PackageSlug},
			Source:  "admin",
		})
		return err
	})
	return in, err
}
