package executor

import (
	"context"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/directive"
	"fleetprompt/store"
)

// Marketplace returns the package kinds. A refusal found at execution
// (tier, agent limit, unpublished) is a *store.ValidationError, which
// fails the directive at once with the refusal's words; a failed install
// shows on its installation (package.installation.failed).
func Marketplace(st *store.Store) []directive.Kind {
	return []directive.Kind{
		{Name: store.DirectivePackageInstall, Title: "Install a package", Pending: "Install requested", Role: directive.RoleAdmin,
			Run: func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
				return st.InstallPackageTx(ctx, tx, t, d)
			},
			OnFailure: st.RecordInstallFailureTx},
		{Name: store.DirectivePackageUninstall, Title: "Uninstall a package", Pending: "Uninstall requested", Role: directive.RoleAdmin,
			Run: func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
				return st.UninstallPackageTx(ctx, tx, t, d)
			}},
	}
}
