package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

// rig is what every measurement here starts from: an organization on pro
// with a Support category, Customer Support Hub installed by the worker
// processes (so its "Support auto-reply" workflow is enabled), the real
// `fleetprompt worker` binary running against the database, and a fake
// OpenAI-compatible provider served over loopback HTTP.
type rig struct {
	st      *store.Store
	tn      store.Tenant
	userID  int64
	cat     string // the Support category
	wfID    string // Support auto-reply
	fake    *llmtest.Server
	workers []*worker
	opened  atomic.Int64 // threads opened in Support
}

type rigOptions struct {
	dsn, dir, bin string
	// workers processes, each with WORKERS=perProcess (0: the app's default).
	workers, perProcess int
	reply               func(llmtest.Request) llmtest.Reply
}

func newRig(ctx context.Context, o rigOptions) (r *rig, err error) {
	db, err := store.Open(ctx, o.dsn, 16)
	if err != nil {
		return nil, err
	}
	st, err := store.New(db, 4)
	if err != nil {
		return nil, err
	}
	r = &rig{st: st, fake: llmtest.New(o.reply)}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if _, err := st.Migrate(ctx); err != nil {
		return r, fmt.Errorf("migrate: %w", err)
	}
	if err := st.Seed(ctx); err != nil { // the marketplace's packages
		return r, fmt.Errorf("seed: %w", err)
	}
	slug := fmt.Sprintf("wfb%d", time.Now().UnixNano()%1e9)
	u, org, err := st.Register(ctx, store.Registration{OrgName: "Workflow bench", OrgSlug: slug, Name: "Wren Bench",
		Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		return r, err
	}
	r.tn, r.userID = org.Tenant(), u.ID
	if _, err := db.ExecContext(ctx, `UPDATE organizations SET tier = 'pro' WHERE id = $1`, org.ID); err != nil {
		return r, err
	}
	cat, err := st.CreateForumCategory(ctx, r.tn, u.ID, store.NewForumCategory{Name: "Support", Slug: "support"})
	if err != nil {
		return r, err
	}
	r.cat = cat.ID
	env := []string{"DATABASE_URL=" + o.dsn, "LLM_BASE_URL=" + r.fake.BaseURL(), "LLM_MODEL=fake-model", "LOG_LEVEL=warn",
		"DATA_DIR=" + filepath.Join(o.dir, "data"), "BCRYPT_COST=4", "DIRECT_DATABASE_URL=", "DATABASE_POOLED=", "LLM_API_KEY="}
	if o.perProcess > 0 {
		env = append(env, fmt.Sprintf("WORKERS=%d", o.perProcess))
	}
	for i := range o.workers {
		name := fmt.Sprintf("worker-%d", i+1)
		w := &worker{name: name, bin: o.bin, env: env, log: filepath.Join(o.dir, name+".log")}
		if err := w.start(); err != nil {
			return r, err
		}
		r.workers = append(r.workers, w)
	}
	return r, r.install(ctx)
}

// install asks for Customer Support Hub as its install form does and
// waits until the workers have made its workflow, enabled.
func (r *rig) install(ctx context.Context) error {
	if _, _, err := r.st.RequestInstall(ctx, r.tn, store.InstallRequest{Slug: "customer-support", UserID: r.userID,
		IdempotencyKey: "bench-install-customer-support"}); err != nil {
		return fmt.Errorf("request install: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := r.st.DB.GetContext(ctx, &r.wfID, r.tn.SQL(`SELECT id FROM {tenant}.workflows
			WHERE package_slug = 'customer-support' AND name = 'Support auto-reply' AND enabled`))
		if err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("Customer Support Hub was not installed (with Support auto-reply enabled) within 60 s: " + r.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// thread opens a thread in Support as the owner (the trigger) and returns
// its id and when its commit came back.
func (r *rig) thread(ctx context.Context, title string) (string, time.Time, error) {
	th, _, err := r.st.CreateForumThread(ctx, r.tn, r.userID, store.NewForumThread{CategoryID: r.cat, Title: title,
		Body: "How do I clear a paper jam in the printer on the second floor?"})
	if err == nil {
		r.opened.Add(1)
	}
	return th.ID, time.Now(), err
}

// progress counts the workflow's runs, and those ended.
func (r *rig) progress(ctx context.Context) (runs, ended int, err error) {
	err = r.st.DB.QueryRowContext(ctx, r.tn.SQL(`SELECT count(*), count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'canceled'))
		FROM {tenant}.workflow_runs WHERE workflow_id = $1`), r.wfID).Scan(&runs, &ended)
	return runs, ended, err
}

// settle waits until every thread opened has its run and every run has
// ended (check then says whether each thread has exactly one).
func (r *rig) settle(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		runs, ended, err := r.progress(ctx)
		if err != nil {
			return err
		}
		opened := int(r.opened.Load())
		if runs >= opened && ended == runs {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s, %d of %d threads have a run and %d runs have ended: %s", limit, runs, opened, ended, r.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logs is the end of each worker's log.
func (r *rig) logs() string {
	var b strings.Builder
	for _, w := range r.workers {
		fmt.Fprintf(&b, "\n--- %s (pid %d, %d exits of its own) ---\n%s", w.name, w.pid(), w.crashes(), w.logTail(20))
	}
	return b.String()
}

// workerCPU is the processor time of the running workers so far.
func (r *rig) workerCPU() time.Duration {
	var total time.Duration
	for _, w := range r.workers {
		total += cpuOf(w.pid())
	}
	return total
}

func (r *rig) close() {
	for _, w := range r.workers {
		w.stop()
	}
	if r.fake != nil {
		r.fake.Close()
	}
	if r.st != nil {
		r.st.DB.Close()
	}
}
