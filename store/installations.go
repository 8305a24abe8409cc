package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Installation is a package installed (or being installed) in a tenant.
type Installation struct {
	ID                string         `db:"id"`
	PackageSlug       string         `db:"package_slug"`
	PackageVersion    string         `db:"package_version"`
	PackageName       string         `db:"package_name"`
	Status            string         `db:"status"`
	Enabled           bool           `db:"enabled"`
	InstalledByUserID sql.NullInt64  `db:"installed_by_user_id"`
	InstalledAt       sql.NullTime   `db:"installed_at"`
	IdempotencyKey    sql.NullString `db:"idempotency_key"`
	LastError         sql.NullString `db:"last_error"`
	LastErrorAt       sql.NullTime   `db:"last_error_at"`
	CreatedAt         time.Time      `db:"created_at"`
	UpdatedAt         time.Time      `db:"updated_at"`
}

// Installation statuses (SPEC §5).
const (
	InstallRequested  = "requested"
	InstallInstalling = "installing"
	InstallInstalled  = "installed"
	InstallFailed     = "failed"
	InstallDisabled   = "disabled"
)

// Directive kinds of the marketplace (SPEC §7); their executors are
// registered by RegisterMarketplace.
const (
	DirectivePackageInstall   = "package.install"
	DirectivePackageUninstall = "package.uninstall"
)

const installationColumns = `id, package_slug, package_version, package_name, status, enabled, installed_by_user_id,
	installed_at, idempotency_key, last_error, last_error_at, created_at, updated_at`

// Installations returns the tenant's installations, by package name.
func (s *Store) Installations(ctx context.Context, t Tenant) ([]Installation, error) {
	var is []Installation
	if err := s.DB.SelectContext(ctx, &is, t.SQL(`SELECT `+installationColumns+` FROM {tenant}.package_installations
		ORDER BY package_name, package_slug`)); err != nil {
		return nil, fmt.Errorf("list installations: %w", err)
	}
	return is, nil
}

// InstallationBySlug returns the tenant's installation of a package, or ErrNotFound.
func (s *Store) InstallationBySlug(ctx context.Context, t Tenant, slug string) (Installation, error) {
	return installationBySlug(ctx, s.DB, t, slug)
}

func installationBySlug(ctx context.Context, q sqlx.QueryerContext, t Tenant, slug string) (Installation, error) {
	var in Installation
	err := sqlx.GetContext(ctx, q, &in, t.SQL(`SELECT `+installationColumns+` FROM {tenant}.package_installations WHERE package_slug = $1`), slug)
	if errors.Is(err, sql.ErrNoRows) {
		return in, ErrNotFound
	} else if err != nil {
		return in, fmt.Errorf("installation %q: %w", slug, err)
	}
	return in, nil
}

// InstallState is what the marketplace shows about one package in one
// tenant: its installation, if any, and the latest install or uninstall
// directive about it, if any.
type InstallState struct {
	Slug         string
	Installation *Installation
	// The latest package.install / package.uninstall directive about the
	// package ("" when none was ever requested).
	DirectiveID     string
	DirectiveName   string
	DirectiveStatus string
	DirectiveError  string
}

// Installed reports whether the package is installed and ready.
func (st InstallState) Installed() bool {
	return st.Installation != nil && st.Installation.Status == InstallInstalled
}

// Pending reports whether a directive about the package is still to run
// or running: the page keeps watching until it is not.
func (st InstallState) Pending() bool {
	return st.DirectiveStatus == "requested" || st.DirectiveStatus == "running"
}

type directiveStateRow struct {
	Slug   string `db:"slug"`
	ID     string `db:"id"`
	Name   string `db:"name"`
	Status string `db:"status"`
	Error  string `db:"last_error"`
}

// InstallStates returns the tenant's install state of every package it
// has an installation of or a directive about, by slug. Packages absent
// from the map were never touched: not installed.
func (s *Store) InstallStates(ctx context.Context, t Tenant) (map[string]InstallState, error) {
	return s.installStates(ctx, t, nil)
}

// InstallStateOf returns the tenant's install state of one package.
func (s *Store) InstallStateOf(ctx context.Context, t Tenant, slug string) (InstallState, error) {
	m, err := s.installStates(ctx, t, []string{slug})
	if err != nil {
		return InstallState{}, err
	}
	st, ok := m[slug]
	if !ok {
		st.Slug = slug
	}
	return st, nil
}

func (s *Store) installStates(ctx context.Context, t Tenant, slugs []string) (map[string]InstallState, error) {
	only := slugs != nil
	var ins []Installation
	if err := s.DB.SelectContext(ctx, &ins, t.SQL(`SELECT `+installationColumns+` FROM {tenant}.package_installations
		WHERE NOT $1 OR package_slug = ANY($2)`), only, pq.Array(slugs)); err != nil {
		return nil, fmt.Errorf("installations: %w", err)
	}
	var ds []directiveStateRow
	if err := s.DB.SelectContext(ctx, &ds, t.SQL(`SELECT DISTINCT ON (subject_id) subject_id AS slug, id, name, status,
			coalesce(last_error, '') AS last_error
		FROM {tenant}.directives
		WHERE subject_type = 'package' AND name IN ('package.install', 'package.uninstall')
		  AND (NOT $1 OR subject_id = ANY($2))
		ORDER BY subject_id, created_at DESC, id`), only, pq.Array(slugs)); err != nil {
		return nil, fmt.Errorf("package directives: %w", err)
	}
	out := make(map[string]InstallState, len(ins)+len(ds))
	for i := range ins {
		out[ins[i].PackageSlug] = InstallState{Slug: ins[i].PackageSlug, Installation: &ins[i]}
	}
	for _, d := range ds {
		st := out[d.Slug]
		st.Slug, st.DirectiveID, st.DirectiveName, st.DirectiveStatus, st.DirectiveError = d.Slug, d.ID, d.Name, d.Status, d.Error
		out[d.Slug] = st
	}
	return out, nil
}

// installFacts is what deciding an install needs to know about the
// tenant, read in one statement.
type installFacts struct {
	Tier   string         `db:"tier"`
	Have   int            `db:"have"`   // agents the tenant has
	Adding int            `db:"adding"` // of the package's agents, those not there yet
	Prev   sql.NullString `db:"prev"`   // the installation's status, if any
	// PrevVersion is the installed version, if any.
	PrevVersion sql.NullString `db:"prev_version"`
}

// readInstallFacts reads the tenant's tier, agent count, how many of the
// package's agents it lacks (an agent with the same name and system
// prompt counts as there) and the package's installation status.
func readInstallFacts(ctx context.Context, q sqlx.QueryerContext, t Tenant, p Package, inc PackageIncludes) (installFacts, error) {
	names, prompts := make([]string, len(inc.Agents)), make([]string, len(inc.Agents))
	for i, a := range inc.Agents {
		names[i], prompts[i] = a.Name, a.SystemPrompt
	}
	var f installFacts
	err := sqlx.GetContext(ctx, q, &f, t.SQL(`SELECT
		(SELECT tier FROM public.organizations WHERE id = $1) AS tier,
		(SELECT count(*) FROM {tenant}.agents) AS have,
		(SELECT count(DISTINCT (p.name, p.prompt)) FROM unnest($2::text[], $3::text[]) AS p(name, prompt)
		  WHERE NOT EXISTS (SELECT 1 FROM {tenant}.agents a WHERE a.name = p.name AND a.system_prompt = p.prompt)) AS adding,
		(SELECT status FROM {tenant}.package_installations WHERE package_slug = $4) AS prev,
		(SELECT package_version FROM {tenant}.package_installations WHERE package_slug = $4) AS prev_version`),
		t.OrgID, pq.Array(names), pq.Array(prompts), p.Slug)
	if err != nil {
		return f, fmt.Errorf("read install facts: %w", err)
	}
	return f, nil
}

// judgeInstall says why a tenant with facts f cannot install p (a
// form-level *ValidationError with the reason), or returns nil.
func judgeInstall(p Package, f installFacts) error {
	switch {
	case !p.IsPublished:
		return Invalid("", fmt.Sprintf("%s is not published, so it cannot be installed.", p.Name))
	case p.Version == "":
		return Invalid("", fmt.Sprintf("%s has no version to install.", p.Name))
	case !TierAllows(f.Tier, p.MinTier):
		return Invalid("", fmt.Sprintf("%s needs the %s tier or higher; this organization is on the %s tier.", p.Name, p.MinTier, f.Tier))
	}
	if limit := AgentLimit(f.Tier); f.Adding > 0 && f.Have+f.Adding > limit {
		return Invalid("", fmt.Sprintf("Installing %s would add %d agents to the %d this organization has, over the %s tier's limit of %d agents.",
			p.Name, f.Adding, f.Have, f.Tier, limit))
	}
	return nil
}

// installRefusal judges an install request now. Requests check it so a
// refusal is immediate; the executor judges again under the tenant's
// install lock, where it is final.
func installRefusal(ctx context.Context, q sqlx.QueryerContext, t Tenant, p Package) error {
	inc, err := decodeIncludes(p.IncludesJSON)
	if err != nil {
		return err
	}
	f, err := readInstallFacts(ctx, q, t, p, inc)
	if err != nil {
		return err
	}
	// Asking again for what is already there (same version, installed)
	// was accepted and ran a directive that changed nothing: say so. A
	// new version, or a disabled or failed installation, may be installed
	// again. Two requests racing before either ran both pass here; the
	// second then runs as a reinstall that creates and counts nothing.
	if f.Prev.String == InstallInstalled && f.PrevVersion.String == p.Version {
		return Invalid("", fmt.Sprintf("%s %s is installed already.", p.Name, p.Version))
	}
	return judgeInstall(p, f)
}
