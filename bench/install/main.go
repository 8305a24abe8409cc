// Command install measures full package.install directives end to end:
// each is requested the way the install form does (directive, job and
// signals in one transaction), then executed by the job runner with a
// fixed number of workers (default 4): installation upserted, the
// package's agents created, skills recorded, install counted, signals
// emitted, directive succeeded. Every install is a first install that
// creates agents: the bench makes its own packages and spreads them over
// several tenants (tier enterprise, so the agent limit never refuses).
// The signal subscribers also run (-fanout, on by default), taking the
// installs' signals as they do in the app. The last line it prints is
//
//	install: N directives in T → X directives/s
//
// It uses DATABASE_URL when set (creating and dropping a database
// "fp_bench_install" beside the one named there), and otherwise starts a
// private PostgreSQL in a temporary directory with the app's durable
// settings (-fast turns fsync off).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/bench/benchdb"
	"fleetprompt/jobs"
	"fleetprompt/jobs/activity"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/executor"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

func main() {
	var (
		tenants    = flag.Int("tenants", 25, "organizations installing")
		packages   = flag.Int("packages", 40, "packages each organization installs (N = tenants × packages)")
		agents     = flag.Int("agents", 3, "agents per package")
		workers    = flag.Int("workers", 4, "job runner workers")
		requesters = flag.Int("requesters", 8, "goroutines requesting installs (as concurrent form posts)")
		fast       = flag.Bool("fast", false, "private server without fsync")
		fanout     = flag.Bool("fanout", true, "the same workers also deliver the installs' signals (as in the app)")
		noop       = flag.Bool("noop", false, "request no-op directives instead: the directive machinery's own cost, for comparison")
	)
	flag.Parse()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	dsn, stop, err := benchdb.Open(ctx, "fp_bench_install", benchdb.Options{Fast: *fast, Logger: log})
	if err != nil {
		fail(err)
	}
	defer stop()
	db, err := store.Open(ctx, dsn, *workers+*requesters+8)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	st, err := store.New(db, 4)
	if err != nil {
		fail(err)
	}

	n := *tenants * *packages
	slugs, err := makePackages(ctx, st, *packages, *agents)
	if err != nil {
		fail(err)
	}
	orgs, err := makeTenants(ctx, st, *tenants)
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d tenants × %d packages of %d agents = %d installs, %d workers, %d requesters\n",
		*tenants, *packages, *agents, n, *workers, *requesters)

	// Wired as the app wires it (app/platform.go): the directive engine
	// on the runner, and with -fanout the signal subscribers working too.
	dirs := directive.New(st, log, append(executor.Marketplace(st), directive.Kind{Name: "bench.noop", Title: "Nothing", Pending: "Nothing requested",
		Run: func(context.Context, *sqlx.Tx, store.Tenant, store.Directive) (any, error) { return nil, nil }})...)
	bus := signal.New(signal.Config{Store: st, DSN: dsn, Logger: log})
	bus.Subscribe(activity.Subscriber(st))
	var succeeded, failed atomic.Int64
	done := make(chan struct{})
	var doneOnce sync.Once
	r := jobs.New(db, jobs.Config{DSN: dsn, MaxWorkers: *workers, Logger: log, OnEventFunc: func(e jobs.Event) {
		if e.Job.Kind != store.DirectiveJob {
			return
		}
		switch e.Kind {
		case jobs.EventCompleted:
			if succeeded.Add(1)+failed.Load() == int64(n) {
				doneOnce.Do(func() { close(done) })
			}
		case jobs.EventDiscarded:
			if failed.Add(1)+succeeded.Load() == int64(n) {
				doneOnce.Do(func() { close(done) })
			}
		}
	}})
	dirs.RegisterJobs(r)
	if err := r.Start(ctx); err != nil {
		fail(err)
	}
	if *fanout {
		if err := bus.Start(ctx); err != nil {
			fail(err)
		}
		defer bus.Stop(context.Background())
	}

	// Requests interleave tenants, as many owners clicking at once would.
	type req struct {
		org  benchOrg
		slug string
	}
	queue := make(chan req, n)
	// Diagonal order: neighbouring requests differ in tenant and in
	// package, as many owners installing various packages would.
	for round := range *packages {
		for i, o := range orgs {
			queue <- req{o, slugs[(round+i)%*packages]}
		}
	}
	close(queue)
	start := time.Now()
	var reqWG sync.WaitGroup
	var reqErr atomic.Value
	for range *requesters {
		reqWG.Add(1)
		go func() {
			defer reqWG.Done()
			for q := range queue {
				var err error
				if *noop {
					_, _, err = dirs.Request(ctx, q.org.org.Tenant(), store.DirectiveRequest{Kind: "bench.noop", UserID: q.org.userID}, true)
				} else {
					_, _, err = st.RequestInstall(ctx, q.org.org.Tenant(), store.InstallRequest{Slug: q.slug, UserID: q.org.userID})
				}
				if err != nil {
					reqErr.Store(err)
					return
				}
			}
		}()
	}
	reqWG.Wait()
	requested := time.Since(start)
	if err, _ := reqErr.Load().(error); err != nil {
		fail(fmt.Errorf("request: %w", err))
	}
	fmt.Printf("requested %d installs in %s (%.0f requests/s, workers running meanwhile)\n", n, requested.Round(time.Millisecond), float64(n)/requested.Seconds())

	select {
	case <-done:
	case <-time.After(30 * time.Minute):
		fail(fmt.Errorf("timed out: %d succeeded, %d failed of %d", succeeded.Load(), failed.Load(), n))
	}
	elapsed := time.Since(start)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	r.Stop(sctx)
	cancel()

	if *noop {
		fmt.Printf("noop: %d directives in %s → %.0f directives/s\n", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
		return
	}
	if err := verify(ctx, st, orgs, n, *packages**agents); err != nil {
		fail(err)
	}
	fmt.Printf("verified: %d directives succeeded, %d agents per tenant, install counts %d each\n", n, *packages**agents, *tenants)
	fmt.Printf("install: %d directives in %s → %.0f directives/s\n", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
}

type benchOrg struct {
	org    store.Organization
	userID int64
}

func makeTenants(ctx context.Context, st *store.Store, n int) ([]benchOrg, error) {
	out := make([]benchOrg, n)
	for i := range out {
		slug := fmt.Sprintf("bench_%d", i)
		u, org, err := st.Register(ctx, store.Registration{OrgName: "Bench " + slug, OrgSlug: slug, Name: "Owner",
			Email: slug + "@bench.example", Password: "password123"})
		if err != nil {
			return nil, fmt.Errorf("register %s: %w", slug, err)
		}
		if _, err := st.DB.ExecContext(ctx, `UPDATE organizations SET tier = 'enterprise' WHERE id = $1`, org.ID); err != nil {
			return nil, err
		}
		out[i] = benchOrg{org, u.ID}
	}
	return out, nil
}

func makePackages(ctx context.Context, st *store.Store, n, agents int) ([]string, error) {
	// The seed's skills, so installs record tenant skills as real ones do.
	if err := st.Seed(ctx); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	slugs := make([]string, n)
	for i := range slugs {
		slugs[i] = fmt.Sprintf("bench-%d", i)
		as := make([]store.PackageAgent, agents)
		for j := range as {
			as[j] = store.PackageAgent{Name: fmt.Sprintf("Bench %d agent %d", i, j+1), Description: "A benchmark agent.",
				SystemPrompt: fmt.Sprintf("You are benchmark agent %d of package %d. Be concise.", j+1, i)}
		}
		inc, _ := json.Marshal(store.PackageIncludes{Agents: as, Skills: []string{"web-research", "customer-communication"},
			Workflows: []store.PackageWorkflow{}, Tools: []string{}})
		if _, err := st.DB.ExecContext(ctx, `INSERT INTO packages (name, slug, version, description, category, pricing_model, min_tier, includes, is_published)
			VALUES ($1, $2, '1.0.0', 'Benchmark package.', 'operations', 'free', 'free', $3, true)`, "Bench package "+slugs[i], slugs[i], inc); err != nil {
			return nil, fmt.Errorf("package %s: %w", slugs[i], err)
		}
	}
	return slugs, nil
}

// verify checks that the work really happened: every directive
// succeeded, every tenant has every package's agents, every package was
// counted once per tenant.
func verify(ctx context.Context, st *store.Store, orgs []benchOrg, n, agentsPerTenant int) error {
	total := 0
	for _, o := range orgs {
		t := o.org.Tenant()
		counts, err := st.DirectiveCounts(ctx, t)
		if err != nil {
			return err
		}
		total += counts[store.DirectiveSucceeded]
		if len(counts) != 1 {
			return fmt.Errorf("%s: directives by status %v", t.Schema(), counts)
		}
		agents, err := st.CountAgents(ctx, t)
		if err != nil {
			return err
		}
		if agents != agentsPerTenant {
			return fmt.Errorf("%s: %d agents, want %d", t.Schema(), agents, agentsPerTenant)
		}
	}
	if total != n {
		return fmt.Errorf("%d directives succeeded, want %d", total, n)
	}
	var wrong int
	if err := st.DB.GetContext(ctx, &wrong, `SELECT count(*) FROM packages WHERE slug LIKE 'bench-%' AND install_count <> $1`, len(orgs)); err != nil {
		return err
	}
	if wrong != 0 {
		return fmt.Errorf("%d packages with a wrong install count", wrong)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-install:", err)
	os.Exit(1)
}
