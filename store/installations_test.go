package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/executor"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// workers is a real job runner executing the marketplace's directives,
// with a way to wait for a directive to finish without sleeping: every job
// event wakes the waiters, who then read the directive.
type workers struct {
	st   *store.Store
	dirs *directive.Engine
	mu   sync.Mutex
	wake chan struct{} // closed and replaced on every job event
}

// startWorkers runs n workers limited to the given tenants' jobs, so
// parallel tests never execute each other's directives.
func startWorkers(t testing.TB, st *store.Store, n int, tenants ...store.Tenant) *workers {
	t.Helper()
	schemas := make([]string, len(tenants))
	for i, tn := range tenants {
		schemas[i] = tn.Schema()
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &workers{st: st, dirs: directive.New(st, quiet, executor.Marketplace(st)...), wake: make(chan struct{})}
	r := jobs.New(st.DB, jobs.Config{
		DSN: storetest.DSN(), MaxWorkers: n, Tenants: schemas, PollInterval: 20 * time.Millisecond, Logger: quiet,
		BackoffFunc: func(int) time.Duration { return 10 * time.Millisecond },
		OnEventFunc: func(jobs.Event) { w.poke() },
	})
	w.dirs.RegisterJobs(r)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Stop(ctx)
	})
	return w
}

func (w *workers) poke() {
	w.mu.Lock()
	close(w.wake)
	w.wake = make(chan struct{})
	w.mu.Unlock()
}

// wait returns the directive once it has finished.
func (w *workers) wait(t testing.TB, tn store.Tenant, id string) store.Directive {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		w.mu.Lock()
		ch := w.wake
		w.mu.Unlock()
		d, err := w.st.Directive(context.Background(), tn, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Finished() {
			return d
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("directive %s (%s) still %s after 30s (attempt %d, error %q)", id, d.Name, d.Status, d.Attempt, d.LastError)
		}
	}
}

func (w *workers) install(t testing.TB, tn store.Tenant, userID int64, slug string) store.Directive {
	t.Helper()
	d, _, err := w.st.RequestInstall(context.Background(), tn, store.InstallRequest{Slug: slug, IdempotencyKey: storetest.Name("k"), UserID: userID})
	if err != nil {
		t.Fatalf("request install %s: %v", slug, err)
	}
	return w.wait(t, tn, d.ID)
}

func (w *workers) uninstall(t testing.TB, tn store.Tenant, userID int64, slug string, purge bool) store.Directive {
	t.Helper()
	d, _, err := w.st.RequestUninstall(context.Background(), tn, store.UninstallRequest{Slug: slug, IdempotencyKey: storetest.Name("k"), UserID: userID, Purge: purge})
	if err != nil {
		t.Fatalf("request uninstall %s: %v", slug, err)
	}
	return w.wait(t, tn, d.ID)
}

// testPackage adds a published package of its own to the catalogue, so
// parallel tests never share install counts.
type pkgSpec struct {
	minTier string
	agents  int
	skills  []string
}

func testPackage(t testing.TB, st *store.Store, spec pkgSpec) store.Package {
	t.Helper()
	slug := strings.ReplaceAll(storetest.Name("pkg"), "_", "-")
	agents := make([]store.PackageAgent, spec.agents)
	for i := range agents {
		agents[i] = store.PackageAgent{Name: fmt.Sprintf("Agent %d of %s", i+1, slug), Description: "Test agent.",
			SystemPrompt: fmt.Sprintf("You are test agent %d.", i+1)}
	}
	if spec.skills == nil {
		spec.skills = []string{}
	}
	if spec.minTier == "" {
		spec.minTier = "free"
	}
	inc, _ := json.Marshal(store.PackageIncludes{Agents: agents, Skills: spec.skills, Workflows: []store.PackageWorkflow{}, Tools: []string{}})
	if _, err := st.DB.Exec(`INSERT INTO packages (name, slug, version, description, category, pricing_model, min_tier, includes, is_published)
		VALUES ($1, $2, '1.0.0', 'A test package.', 'operations', 'free', $3, $4, true)`, "Package "+slug, slug, spec.minTier, inc); err != nil {
		t.Fatal(err)
	}
	p, err := st.PackageBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tenantOf(org store.Organization) store.Tenant { return org.Tenant() }

func setTier(t testing.TB, st *store.Store, org store.Organization, tier string) {
	t.Helper()
	if _, err := st.DB.Exec(`UPDATE organizations SET tier = $2 WHERE id = $1`, org.ID, tier); err != nil {
		t.Fatal(err)
	}
}

func countAgents(t testing.TB, st *store.Store, tn store.Tenant, slug string) int {
	t.Helper()
	var n int
	if err := st.DB.Get(&n, tn.SQL(`SELECT count(*) FROM {tenant}.agents WHERE package_slug = $1`), slug); err != nil {
		t.Fatal(err)
	}
	return n
}

func installCount(t testing.TB, st *store.Store, slug string) int64 {
	t.Helper()
	p, err := st.PackageBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return p.InstallCount
}

func pkgSignalNames(t testing.TB, st *store.Store, tn store.Tenant, prefix string) []string {
	t.Helper()
	var names []string
	if err := st.DB.Select(&names, tn.SQL(`SELECT name FROM {tenant}.signals WHERE name LIKE $1 || '%' ORDER BY seq`), prefix); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestInstallCreatesAgentsSkillsAndSignalsOnce(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, st, storetest.Name("inst"))
	tn := tenantOf(org)
	w := startWorkers(t, st, 4, tn)
	p := testPackage(t, st, pkgSpec{agents: 3, skills: []string{"web-research"}})

	d := w.install(t, tn, u.ID, p.Slug)
	if d.Status != store.DirectiveSucceeded {
		t.Fatalf("install directive %s: %s", d.Status, d.LastError)
	}
	in, err := st.InstallationBySlug(ctx, tn, p.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != store.InstallInstalled || !in.InstalledAt.Valid || in.InstalledByUserID.Int64 != u.ID || in.PackageVersion != "1.0.0" {
		t.Errorf("installation %+v", in)
	}
	if n := countAgents(t, st, tn, p.Slug); n != 3 {
		t.Errorf("%d agents, want 3", n)
	}
	var skills []string
	st.DB.Select(&skills, tn.SQL(`SELECT skill_slug FROM {tenant}.tenant_skills WHERE package_slug = $1`), p.Slug)
	if len(skills) != 1 || skills[0] != "web-research" {
		t.Errorf("skills %v", skills)
	}
	if c := installCount(t, st, p.Slug); c != 1 {
		t.Errorf("install_count %d, want 1", c)
	}
	want := "package.install.requested package.installation.started package.installation.installing package.installation.installed"
	if got := strings.Join(pkgSignalNames(t, st, tn, "package."), " "); got != want {
		t.Errorf("signals:\n got %s\nwant %s", got, want)
	}
	var actor, subject, source string
	st.DB.QueryRow(tn.SQL(`SELECT actor_type || ':' || actor_id, subject_type || ':' || subject_id, source FROM {tenant}.signals
		WHERE name = 'package.installation.installed'`)).Scan(&actor, &subject, &source)
	if actor != fmt.Sprintf("user:%d", u.ID) || subject != "package:"+p.Slug || source != "marketplace" {
		t.Errorf("installed signal actor %q subject %q source %q", actor, subject, source)
	}

	// Asking again for the installed version is refused, nothing recorded.
	var refused *store.ValidationError
	if _, _, err := st.RequestInstall(ctx, tn, store.InstallRequest{Slug: p.Slug, IdempotencyKey: storetest.Name("k"), UserID: u.ID}); !errors.As(err, &refused) ||
		!strings.Contains(refused.Fields[""], "installed already") {
		t.Fatalf("install of an installed package: %v", err)
	}
	if c := installCount(t, st, p.Slug); c != 1 {
		t.Errorf("install_count %d after a refused reinstall, want 1", c)
	}
	// A directive that still runs as a reinstall (requested before the
	// first finished, or from outside): no new agents, not counted.
	d, _, err = st.RequestDirective(ctx, tn, store.DirectiveRequest{Kind: store.DirectivePackageInstall,
		Payload: store.PackageDirective{Slug: p.Slug, Version: p.Version}, IdempotencyKey: storetest.Name("k"), UserID: u.ID,
		Subject: store.Subject{Type: "package", ID: p.Slug}})
	if err != nil {
		t.Fatal(err)
	}
	if d = w.wait(t, tn, d.ID); d.Status != store.DirectiveSucceeded {
		t.Fatalf("reinstall: %s %s", d.Status, d.LastError)
	}
	if n := countAgents(t, st, tn, p.Slug); n != 3 {
		t.Errorf("after reinstall %d agents, want 3", n)
	}
	if c := installCount(t, st, p.Slug); c != 1 {
		t.Errorf("install_count %d after reinstall, want 1", c)
	}
	var res store.InstallResult
	json.Unmarshal(d.Result, &res)
	if !res.Reinstall || len(res.AgentsCreated) != 0 || res.AgentsKept != 3 {
		t.Errorf("reinstall result %+v", res)
	}
}

func TestUninstallWithAndWithoutPurgeThenReinstall(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, st, storetest.Name("unin"))
	tn := tenantOf(org)
	w := startWorkers(t, st, 4, tn)
	p := testPackage(t, st, pkgSpec{agents: 2, skills: []string{"customer-communication"}})

	w.install(t, tn, u.ID, p.Slug)
	d := w.uninstall(t, tn, u.ID, p.Slug, false)
	if d.Status != store.DirectiveSucceeded {
		t.Fatalf("uninstall: %s %s", d.Status, d.LastError)
	}
	if _, err := st.InstallationBySlug(ctx, tn, p.Slug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("installation still there: %v", err)
	}
	if n := countAgents(t, st, tn, p.Slug); n != 2 {
		t.Errorf("uninstall without purge left %d agents, want 2", n)
	}
	var skills int
	st.DB.Get(&skills, tn.SQL(`SELECT count(*) FROM {tenant}.tenant_skills WHERE package_slug = $1`), p.Slug)
	if skills != 0 {
		t.Errorf("skills left after uninstall: %d", skills)
	}
	if names := pkgSignalNames(t, st, tn, "package.installation.uninstalled"); len(names) != 1 {
		t.Errorf("uninstalled signals %v", names)
	}

	// Reinstall after uninstall: a new directive, the same agents reused,
	// counted as a real install again.
	d = w.install(t, tn, u.ID, p.Slug)
	if d.Status != store.DirectiveSucceeded {
		t.Fatalf("reinstall: %s %s", d.Status, d.LastError)
	}
	if n := countAgents(t, st, tn, p.Slug); n != 2 {
		t.Errorf("reinstall made %d agents, want 2", n)
	}
	if c := installCount(t, st, p.Slug); c != 1 {
		t.Errorf("install_count %d, want 1 (install, uninstall, install: one organization has it)", c)
	}

	d = w.uninstall(t, tn, u.ID, p.Slug, true)
	if d.Status != store.DirectiveSucceeded {
		t.Fatalf("purge: %s %s", d.Status, d.LastError)
	}
	if n := countAgents(t, st, tn, p.Slug); n != 0 {
		t.Errorf("purge left %d agents", n)
	}
	var res store.UninstallResult
	json.Unmarshal(d.Result, &res)
	if !res.WasInstalled || res.AgentsRemoved != 2 {
		t.Errorf("purge result %+v", res)
	}
	if _, _, err := st.RequestUninstall(ctx, tn, store.UninstallRequest{Slug: p.Slug, IdempotencyKey: storetest.Name("k"), UserID: u.ID}); !isRefusal(err, "not installed") {
		t.Errorf("uninstalling what is not installed: %v", err)
	}
}

func isRefusal(err error, substr string) bool {
	var v *store.ValidationError
	return errors.As(err, &v) && strings.Contains(v.Fields[""], substr)
}

func TestInstallRefusals(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, st, storetest.Name("refuse")) // a new org is free
	tn := tenantOf(org)
	w := startWorkers(t, st, 2, tn)

	pro := testPackage(t, st, pkgSpec{minTier: "pro", agents: 4})
	_, _, err := st.RequestInstall(ctx, tn, store.InstallRequest{Slug: pro.Slug, IdempotencyKey: storetest.Name("k"), UserID: u.ID})
	if !isRefusal(err, "needs the pro tier") {
		t.Fatalf("tier refusal: %v", err)
	}
	var n int
	st.DB.Get(&n, tn.SQL(`SELECT count(*) FROM {tenant}.directives`))
	if n != 0 {
		t.Errorf("a refused request left %d directives", n)
	}

	starter := testPackage(t, st, pkgSpec{agents: 3})
	support := testPackage(t, st, pkgSpec{agents: 3})
	if d := w.install(t, tn, u.ID, starter.Slug); d.Status != store.DirectiveSucceeded {
		t.Fatalf("starter: %s %s", d.Status, d.LastError)
	}
	_, _, err = st.RequestInstall(ctx, tn, store.InstallRequest{Slug: support.Slug, IdempotencyKey: storetest.Name("k"), UserID: u.ID})
	if !isRefusal(err, "limit of 3 agents") {
		t.Fatalf("agent-limit refusal: %v", err)
	}

	// Unpublished packages are refused; unknown ones are not found.
	hidden := testPackage(t, st, pkgSpec{agents: 1})
	st.DB.Exec(`UPDATE packages SET is_published = false WHERE id = $1`, hidden.ID)
	_, _, err = st.RequestInstall(ctx, tn, store.InstallRequest{Slug: hidden.Slug, UserID: u.ID})
	if !isRefusal(err, "not published") {
		t.Errorf("unpublished: %v", err)
	}
	_, _, err = st.RequestInstall(ctx, tn, store.InstallRequest{Slug: "no-such-package", UserID: u.ID})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown slug: %v", err)
	}
}

// The executor judges again under the tenant's install lock: a request
// accepted while the org was pro fails once the org is free, with the
// refusal as the directive's error, the installation marked failed
// (when there is one) and package.installation.failed emitted.
func TestExecutorRechecksAndFailsWithMessage(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, st, storetest.Name("recheck"))
	tn := tenantOf(org)
	w := startWorkers(t, st, 2, tn)
	setTier(t, st, org, "pro")
	p := testPackage(t, st, pkgSpec{minTier: "pro", agents: 1})

	// The request and the downgrade commit together, so no worker (of
	// this test or another) can run it while the org is still pro.
	var req store.Directive
	err := st.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		req, _, err = st.RequestDirectiveTx(ctx, tx, tn, store.DirectiveRequest{Kind: store.DirectivePackageInstall,
			Payload: store.PackageDirective{Slug: p.Slug, Version: p.Version}, UserID: u.ID, Subject: store.Subject{Type: "package", ID: p.Slug}})
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE organizations SET tier = 'free' WHERE id = $1`, org.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d := w.wait(t, tn, req.ID)
	if d.Status != store.DirectiveFailed || !strings.Contains(d.LastError, "needs the pro tier") || d.Attempt != 1 {
		t.Fatalf("directive %s attempt %d error %q", d.Status, d.Attempt, d.LastError)
	}
	if n := countAgents(t, st, tn, p.Slug); n != 0 {
		t.Errorf("a failed install left %d agents", n)
	}
	if names := pkgSignalNames(t, st, tn, "package.installation.failed"); len(names) != 1 {
		t.Errorf("failed signals: %v", names)
	}
	if c := installCount(t, st, p.Slug); c != 0 {
		t.Errorf("a failed install was counted: %d", c)
	}
}

func TestResubmittedKeyReturnsSameDirective(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, st, storetest.Name("idem"))
	tn := tenantOf(org)
	w := startWorkers(t, st, 2, tn)
	p := testPackage(t, st, pkgSpec{agents: 3})
	key := storetest.Name("key")
	first, created, err := st.RequestInstall(ctx, tn, store.InstallRequest{Slug: p.Slug, IdempotencyKey: key, UserID: u.ID})
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	w.wait(t, tn, first.ID)
	// Re-sent after it ran (the agent limit would now refuse a new one):
	// the same directive comes back, nothing new is queued.
	again, created, err := st.RequestInstall(ctx, tn, store.InstallRequest{Slug: p.Slug, IdempotencyKey: key, UserID: u.ID})
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("resubmission: id %s vs %s, created %v, err %v", again.ID, first.ID, created, err)
	}
	var n int
	st.DB.Get(&n, tn.SQL(`SELECT count(*) FROM {tenant}.directives WHERE name = 'package.install'`))
	if n != 1 {
		t.Errorf("%d install directives, want 1", n)
	}
	if names := pkgSignalNames(t, st, tn, "package.install.requested"); len(names) != 1 {
		t.Errorf("requested signals %v", names)
	}
}

// Two requests (different keys) to install the same package at the same
// time: both directives succeed, one installation, no duplicate agents,
// counted once.
func TestConcurrentInstallsOfOnePackage(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, org := register(t, st, storetest.Name("conc"))
	tn := tenantOf(org)
	w := startWorkers(t, st, 4, tn)
	p := testPackage(t, st, pkgSpec{agents: 3, skills: []string{"web-research"}})

	const n = 4
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, _, err := st.RequestInstall(ctx, tn, store.InstallRequest{Slug: p.Slug, IdempotencyKey: storetest.Name("k"), UserID: u.ID})
			ids[i] = d.ID
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// A request judged after another finished is refused as
		// installed already; the others all run.
		var v *store.ValidationError
		if err != nil && !(errors.As(err, &v) && strings.Contains(v.Fields[""], "installed already")) {
			t.Fatal(err)
		}
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		if d := w.wait(t, tn, id); d.Status != store.DirectiveSucceeded {
			t.Errorf("directive %s: %s %s", id, d.Status, d.LastError)
		}
	}
	if c := countAgents(t, st, tn, p.Slug); c != 3 {
		t.Errorf("%d agents, want 3", c)
	}
	var installs int
	st.DB.Get(&installs, tn.SQL(`SELECT count(*) FROM {tenant}.package_installations`))
	if installs != 1 {
		t.Errorf("%d installations", installs)
	}
	if c := installCount(t, st, p.Slug); c != 1 {
		t.Errorf("install_count %d, want 1", c)
	}
}

// Installations and their states are per tenant.
func TestInstallStatesAreTenantScoped(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	u, a := register(t, st, storetest.Name("isoa"))
	_, b := register(t, st, storetest.Name("isob"))
	w := startWorkers(t, st, 2, a.Tenant(), b.Tenant())
	p := testPackage(t, st, pkgSpec{agents: 1})
	w.install(t, a.Tenant(), u.ID, p.Slug)
	sa, err := st.InstallStateOf(ctx, a.Tenant(), p.Slug)
	if err != nil || !sa.Installed() {
		t.Fatalf("org a: %+v %v", sa, err)
	}
	sb, err := st.InstallStates(ctx, b.Tenant())
	if err != nil || len(sb) != 0 {
		t.Errorf("org b sees %v (%v)", sb, err)
	}
}

// The demo organization (tier pro) can install every seeded package;
// starter-agents' Research Assistant has another prompt than the seeded
// draft one, so both exist.
func TestDemoOrgInstallsEverySeededPackage(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	if err := st.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	demo, err := st.OrganizationBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	w := startWorkers(t, st, 4, demo.Tenant())
	admin, err := st.UserByEmail(ctx, "admin@demo.com")
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := st.InstallStates(ctx, demo.Tenant())
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"field-service", "customer-support", "sales-automation", "starter-agents"} {
		if _, ok := seeded[slug]; ok {
			continue // the demo organization is shared: an earlier run (-count) installed it
		}
		if d := w.install(t, demo.Tenant(), admin.ID, slug); d.Status != store.DirectiveSucceeded {
			t.Errorf("%s: %s %s", slug, d.Status, d.LastError)
		}
	}
	// The seeded Research Assistant keeps its name; the package's own is
	// told apart by the package's name, with a handle of its own.
	var research []string
	st.DB.Select(&research, demo.Tenant().SQL(`SELECT name || ' @' || handle || ' ' || state FROM {tenant}.agents WHERE name LIKE 'Research Assistant%' ORDER BY created_at`))
	if fmt.Sprint(research) != "[Research Assistant @research-assistant active Research Assistant (Starter Agents) @research-assistant-starter-agents active]" {
		t.Errorf("Research Assistants: %q", research)
	}
	for slug, want := range map[string]int{"field-service": 4, "customer-support": 3, "sales-automation": 2, "starter-agents": 3} {
		if n := countAgents(t, st, demo.Tenant(), slug); n != want {
			t.Errorf("%s: %d agents, want %d", slug, n, want)
		}
	}
}
