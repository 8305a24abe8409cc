package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
)

// PackageDirective is the payload of package.install and package.uninstall.
type PackageDirective struct {
	Slug string `json:"slug"`
	// Version is the version the requester saw; the install refuses when
	// the catalogue has moved on meanwhile, rather than install something
	// nobody looked at.
	Version string `json:"version,omitempty"`
	// Purge (uninstall) also removes the agents the package created.
	Purge bool `json:"purge,omitempty"`
}

// InstallResult is a package.install directive's result.
type InstallResult struct {
	Slug          string   `json:"slug"`
	Version       string   `json:"version"`
	AgentsCreated []string `json:"agents_created"` // ids
	AgentsKept    int      `json:"agents_kept"`    // already there (same name and prompt)
	Skills        []string `json:"skills"`
	Reinstall     bool     `json:"reinstall"` // it was installed already
	// Counted: this install made the organization's installation, so
	// the package's install_count went up by one.
	Counted bool `json:"counted"`
	// Workflows created, and how many of them are disabled because the
	// tier's workflow limit was reached.
	Workflows         int `json:"workflows"`
	WorkflowsDisabled int `json:"workflows_disabled"`
}

// UninstallResult is a package.uninstall directive's result.
type UninstallResult struct {
	Slug          string `json:"slug"`
	WasInstalled  bool   `json:"was_installed"`
	AgentsRemoved int    `json:"agents_removed"`
}

// installLockClass is the first key of the per-tenant advisory lock that
// serialises install and uninstall executions: the agent limit is a
// tenant-wide count, so two installs (of one package or of two) must not
// both decide against the same count.
const installLockClass = 0x46500005

func lockTenantInstalls(ctx context.Context, tx *sqlx.Tx, t Tenant) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, installLockClass, t.Schema()); err != nil {
		return fmt.Errorf("lock tenant installs: %w", err)
	}
	return nil
}

func packageBySlugTx(ctx context.Context, tx *sqlx.Tx, slug string) (Package, error) {
	var p Package
	err := tx.GetContext(ctx, &p, `SELECT `+packageColumns+` FROM public.packages WHERE slug = $1`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	} else if err != nil {
		return p, fmt.Errorf("package %q: %w", slug, err)
	}
	return p, nil
}

// installEvent is one step of an install, emitted as a signal.
type installEvent struct{ name, status string }

// InstallPackageTx is the body of a package.install directive, run inside
// the directive's transaction: the installation, the agents, the skills,
// the install count and the signals all commit together with the
// directive's success, or not at all. A refusal (unpublished, version
// moved on, tier, agent limit) is returned as a *ValidationError, which
// the directive runner records as a permanent failure.
func (s *Store) InstallPackageTx(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive) (InstallResult, error) {
	p, inc, facts, err := installablePackage(ctx, tx, t, d)
	if err != nil {
		return InstallResult{}, err
	}
	res := InstallResult{Slug: p.Slug, Version: p.Version, AgentsCreated: []string{}, Skills: inc.Skills,
		Reinstall: facts.Prev.String == InstallInstalled, Counted: !facts.Prev.Valid}
	if res.Skills == nil {
		res.Skills = []string{}
	}
	installationID, err := upsertInstallationTx(ctx, tx, t, d, p)
	if err != nil {
		return res, err
	}
	if res.AgentsCreated, err = createPackageAgentsTx(ctx, tx, t, p, inc); err != nil {
		return res, err
	}
	res.AgentsKept = len(inc.Agents) - len(res.AgentsCreated)
	if len(inc.Skills) > 0 {
		if _, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.tenant_skills (skill_slug, package_slug)
			SELECT unnest($1::text[]), $2 ON CONFLICT (skill_slug) DO NOTHING`), pq.Array(inc.Skills), p.Slug); err != nil {
			return res, fmt.Errorf("record skills: %w", err)
		}
	}
	// A reinstall keeps the workflows it made (and their changes).
	if !res.Reinstall {
		if res.Workflows, res.WorkflowsDisabled, err = installWorkflowsTx(ctx, tx, t, d, p, inc); err != nil {
			return res, err
		}
	}
	// Signals last: emitting takes the tenant's signal lock until commit.
	if err := s.emitInstalledSignals(ctx, tx, t, d, p, installationID, res); err != nil {
		return res, err
	}
	// Installed, and counted when this made the organization's
	// installation: install_count is how many organizations have the
	// package (uninstall takes one off), so reinstalls, retries and
	// re-enables never inflate it. In one statement, last: the package
	// row is shared by every tenant, so its lock is held the shortest.
	if _, err := tx.ExecContext(ctx, t.SQL(`WITH done AS (
			UPDATE {tenant}.package_installations SET status = 'installed', enabled = true,
				installed_at = now(), last_error = NULL, last_error_at = NULL, updated_at = now() WHERE id = $1)
		UPDATE public.packages SET install_count = install_count + 1 WHERE id = $2 AND $3`), installationID, p.ID, res.Counted); err != nil {
		return res, fmt.Errorf("mark installed: %w", err)
	}
	return res, nil
}

// installablePackage decodes the directive, takes the tenant's install
// lock and judges the request: the package still there at the version
// asked for, within the tier and the agent limit. Under the lock these
// facts are settled: "was it installed" and the agent count are exact.
func installablePackage(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive) (Package, PackageIncludes, installFacts, error) {
	var req PackageDirective
	var p Package
	var inc PackageIncludes
	var facts installFacts
	if err := d.Decode(&req); err != nil {
		return p, inc, facts, jobs.Permanent(err) // retrying cannot fix a malformed payload
	}
	if err := lockTenantInstalls(ctx, tx, t); err != nil {
		return p, inc, facts, err
	}
	p, err := packageBySlugTx(ctx, tx, req.Slug)
	if errors.Is(err, ErrNotFound) {
		return p, inc, facts, Invalid("", fmt.Sprintf("Package %q no longer exists.", req.Slug))
	} else if err != nil {
		return p, inc, facts, err
	}
	if req.Version != "" && req.Version != p.Version {
		return p, inc, facts, Invalid("", fmt.Sprintf("%s is now version %s, not the %s that was requested; install it again.", p.Name, p.Version, req.Version))
	}
	if inc, err = decodeIncludes(p.IncludesJSON); err != nil {
		return p, inc, facts, jobs.Permanent(err)
	}
	if facts, err = readInstallFacts(ctx, tx, t, p, inc); err != nil {
		return p, inc, facts, err
	}
	return p, inc, facts, judgeInstall(p, facts)
}

// upsertInstallationTx writes the installation row: a first install
// inserts it, a reinstall (or a retry after a failure) takes it over.
func upsertInstallationTx(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive, p Package) (string, error) {
	var installationID string
	if err := tx.GetContext(ctx, &installationID, t.SQL(`INSERT INTO {tenant}.package_installations
			(package_slug, package_version, package_name, status, installed_by_user_id, idempotency_key)
		VALUES ($1, $2, $3, 'installing', $4, $5)
		ON CONFLICT (package_slug) DO UPDATE SET package_version = EXCLUDED.package_version, package_name = EXCLUDED.package_name,
			status = 'installing', installed_by_user_id = EXCLUDED.installed_by_user_id, idempotency_key = EXCLUDED.idempotency_key,
			updated_at = now()
		RETURNING id`), p.Slug, p.Version, p.Name, sql.NullInt64{Int64: d.RequestedByUserID, Valid: d.RequestedByUserID != 0}, nullIfEmpty(d.IdempotencyKey)); err != nil {
		return "", fmt.Errorf("upsert installation: %w", err)
	}
	return installationID, nil
}

// createPackageAgentsTx creates the package's agents in one statement,
// active (SPEC §12): one with the same name and system prompt counts as
// there already, so a reinstall (or a concurrent install that waited on
// the lock) creates none. A name taken by a different agent becomes
// "Name (Package name)": names are unique per organization. Handles come
// from the names (a trigger). It returns the ids it created.
func createPackageAgentsTx(ctx context.Context, tx *sqlx.Tx, t Tenant, p Package, inc PackageIncludes) ([]string, error) {
	created := []string{}
	if len(inc.Agents) == 0 {
		return created, nil
	}
	names, descs, prompts := make([]string, len(inc.Agents)), make([]string, len(inc.Agents)), make([]string, len(inc.Agents))
	for i, a := range inc.Agents {
		names[i], descs[i], prompts[i] = a.Name, a.Description, a.SystemPrompt
	}
	if err := tx.SelectContext(ctx, &created, t.SQL(`INSERT INTO {tenant}.agents (name, description, system_prompt, package_slug, state)
		SELECT CASE WHEN EXISTS (SELECT 1 FROM {tenant}.agents a WHERE lower(a.name) = lower(p.name) AND a.archived_at IS NULL)
		            THEN p.alt ELSE p.name END, p.descr, p.prompt, $4, 'active'
		  FROM (SELECT u.*, left(u.name, 80) || ' (' || $5 || ')' AS alt
		          FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(name, descr, prompt, ord)) p
		 WHERE NOT EXISTS (SELECT 1 FROM {tenant}.agents a WHERE a.system_prompt = p.prompt AND a.archived_at IS NULL
		                      AND lower(a.name) IN (lower(p.name), lower(p.alt)))
		 ORDER BY p.ord
		RETURNING id`), pq.Array(names), pq.Array(descs), pq.Array(prompts), p.Slug, p.Name); err != nil {
		return nil, fmt.Errorf("create agents: %w", err)
	}
	return created, nil
}

// emitInstalledSignals records the install's three steps as signals.
func (s *Store) emitInstalledSignals(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive, p Package, installationID string, res InstallResult) error {
	payload := map[string]any{"package_slug": p.Slug, "package_name": p.Name, "version": p.Version,
		"installation_id": installationID, "directive_id": d.ID}
	for _, ev := range []installEvent{{"package.installation.started", "requested"}, {"package.installation.installing", InstallInstalling}, {"package.installation.installed", InstallInstalled}} {
		pl := copyMap(payload)
		pl["status"] = ev.status
		if ev.status == InstallInstalled {
			pl["agents_created"], pl["agents_kept"], pl["skills"], pl["reinstall"] = len(res.AgentsCreated), res.AgentsKept, res.Skills, res.Reinstall
			pl["workflows"], pl["workflows_disabled"] = res.Workflows, res.WorkflowsDisabled
		}
		if err := s.emitInstallSignal(ctx, tx, t, d, ev.name, p.Slug, pl); err != nil {
			return err
		}
	}
	return nil
}

// RecordInstallFailureTx records a failed install in the transaction that marks
// the directive failed for good (the executor's one rolled back): the
// installation, if there is one, shows the error, and
// package.installation.failed says so. A package never
// installed gets no installation row just to hold the error; the
// directive keeps it.
func (s *Store) RecordInstallFailureTx(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive, cause error) error {
	var req PackageDirective
	if err := d.Decode(&req); err != nil {
		return err
	}
	msg := failureMessage(cause)
	if _, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.package_installations SET
			status = CASE WHEN status = 'installed' THEN status ELSE 'failed' END,
			last_error = $2, last_error_at = now(), updated_at = now()
		WHERE package_slug = $1`), req.Slug, msg); err != nil {
		return fmt.Errorf("record install failure: %w", err)
	}
	return s.emitInstallSignal(ctx, tx, t, d, "package.installation.failed", req.Slug,
		map[string]any{"package_slug": req.Slug, "directive_id": d.ID, "status": InstallFailed, "error": msg})
}

// failureMessage is what people see of a failure: a refusal's own words,
// otherwise the error text.
func failureMessage(err error) string {
	var v *ValidationError
	if errors.As(err, &v) {
		if m := v.Fields[""]; m != "" {
			return m
		}
	}
	return err.Error()
}

// UninstallPackageTx is the body of a package.uninstall directive: it
// removes the installation (and the skills only it brought) and, with
// purge, the agents the package created, in the directive's transaction.
// Uninstalling what is not installed succeeds with nothing to do, so a
// retried or repeated uninstall is harmless.
func (s *Store) UninstallPackageTx(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive) (UninstallResult, error) {
	var req PackageDirective
	if err := d.Decode(&req); err != nil {
		return UninstallResult{}, jobs.Permanent(err)
	}
	res := UninstallResult{Slug: req.Slug}
	if err := lockTenantInstalls(ctx, tx, t); err != nil {
		return res, err
	}
	var in struct {
		ID   string `db:"id"`
		Name string `db:"package_name"`
	}
	err := tx.GetContext(ctx, &in, t.SQL(`DELETE FROM {tenant}.package_installations WHERE package_slug = $1 RETURNING id, package_name`), req.Slug)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("remove installation: %w", err)
	}
	res.WasInstalled = err == nil
	if res.WasInstalled {
		// The organization no longer has it: one install fewer (see
		// InstallPackageTx), never below zero.
		if _, err := tx.ExecContext(ctx, `UPDATE public.packages SET install_count = greatest(install_count - 1, 0) WHERE slug = $1`, req.Slug); err != nil {
			return res, fmt.Errorf("uncount install: %w", err)
		}
	}
	if _, err := removeWorkflowsTx(ctx, tx, t, req.Slug); err != nil {
		return res, err
	}
	if req.Purge {
		r, err := tx.ExecContext(ctx, t.SQL(`DELETE FROM {tenant}.agents WHERE package_slug = $1`), req.Slug)
		if err != nil {
			return res, fmt.Errorf("remove agents: %w", err)
		}
		n, _ := r.RowsAffected()
		res.AgentsRemoved = int(n)
	}
	// Skills this package enabled go, unless another installed package
	// includes them too: then that package keeps them.
	if _, err := tx.ExecContext(ctx, t.SQL(`
		WITH gone AS (DELETE FROM {tenant}.tenant_skills WHERE package_slug = $1 RETURNING skill_slug)
		INSERT INTO {tenant}.tenant_skills (skill_slug, package_slug)
		SELECT DISTINCT ON (g.skill_slug) g.skill_slug, i.package_slug
		  FROM gone g
		  JOIN {tenant}.package_installations i ON i.package_slug <> $1
		  JOIN public.packages p ON p.slug = i.package_slug
		 WHERE p.includes->'skills' ? g.skill_slug
		 ORDER BY g.skill_slug, i.package_slug
		ON CONFLICT (skill_slug) DO NOTHING`), req.Slug); err != nil {
		return res, fmt.Errorf("remove skills: %w", err)
	}
	if res.WasInstalled {
		if err := s.emitInstallSignal(ctx, tx, t, d, "package.installation.uninstalled", req.Slug, map[string]any{
			"package_slug": req.Slug, "package_name": in.Name, "installation_id": in.ID, "directive_id": d.ID,
			"purge": req.Purge, "agents_removed": res.AgentsRemoved,
		}); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Store) emitInstallSignal(ctx context.Context, tx *sqlx.Tx, t Tenant, d Directive, name, slug string, payload map[string]any) error {
	actor := SystemActor("directives")
	if d.RequestedByUserID > 0 {
		actor = UserActor(d.RequestedByUserID)
	}
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{
		Name: name, Payload: payload, Actor: actor,
		Subject: Subject{Type: "package", ID: slug}, Source: "marketplace",
		CorrelationID: d.ID, CausationID: d.ID,
	})
	return err
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// InstallRequest is the install form.
type InstallRequest struct {
	Slug           string
	IdempotencyKey string
	UserID         int64
}

// UninstallRequest is the uninstall form.
type UninstallRequest struct {
	Slug           string
	IdempotencyKey string
	UserID         int64
	Purge          bool
}

// RequestInstall asks for a package.install directive. An unknown package
// is ErrNotFound; a refusal already certain now (unpublished, tier, agent
// limit) is a form-level *ValidationError and records nothing. The
// directive, its job, directive.requested and package.install.requested
// commit together. Re-sending the same idempotency key returns the
// directive it made (created false) without judging the request again.
func (s *Store) RequestInstall(ctx context.Context, t Tenant, r InstallRequest) (dir Directive, created bool, err error) {
	p, err := s.PackageBySlug(ctx, r.Slug)
	if err != nil {
		return dir, false, err
	}
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		dir, created, err = s.RequestDirectiveTx(ctx, tx, t, DirectiveRequest{
			Kind: DirectivePackageInstall, Payload: PackageDirective{Slug: p.Slug, Version: p.Version},
			IdempotencyKey: r.IdempotencyKey, UserID: r.UserID, Subject: Subject{Type: "package", ID: p.Slug},
		})
		if err != nil || !created {
			return err
		}
		// Judged after the directive is in: a refusal rolls it back, and
		// a re-sent form (not created) is never refused after the fact.
		if err := installRefusal(ctx, tx, t, p); err != nil {
			return err
		}
		return s.emitInstallSignal(ctx, tx, t, dir, "package.install.requested", p.Slug,
			map[string]any{"package_slug": p.Slug, "package_name": p.Name, "version": p.Version, "directive_id": dir.ID})
	})
	if err != nil {
		// The transaction rolled back: the directive it made is not there.
		return Directive{}, false, err
	}
	return dir, created, nil
}

// RequestUninstall asks for a package.uninstall directive, like
// RequestInstall. Uninstalling a package that has no installation is
// refused.
func (s *Store) RequestUninstall(ctx context.Context, t Tenant, r UninstallRequest) (dir Directive, created bool, err error) {
	p, err := s.PackageBySlug(ctx, r.Slug)
	if err != nil {
		return dir, false, err
	}
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		dir, created, err = s.RequestDirectiveTx(ctx, tx, t, DirectiveRequest{
			Kind: DirectivePackageUninstall, Payload: PackageDirective{Slug: p.Slug, Purge: r.Purge},
			IdempotencyKey: r.IdempotencyKey, UserID: r.UserID, Subject: Subject{Type: "package", ID: p.Slug},
		})
		if err != nil || !created {
			return err
		}
		if _, err := installationBySlug(ctx, tx, t, p.Slug); errors.Is(err, ErrNotFound) {
			return Invalid("", fmt.Sprintf("%s is not installed.", p.Name))
		} else if err != nil {
			return err
		}
		return s.emitInstallSignal(ctx, tx, t, dir, "package.uninstall.requested", p.Slug,
			map[string]any{"package_slug": p.Slug, "package_name": p.Name, "purge": r.Purge, "directive_id": dir.ID})
	})
	if err != nil {
		// The transaction rolled back: the directive it made is not there.
		return Directive{}, false, err
	}
	return dir, created, nil
}
