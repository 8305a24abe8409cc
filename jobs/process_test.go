package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// These tests are not parallel: rescue acts on every running job of the
// database, so nothing else may be running meanwhile. Go runs them
// before the parallel tests start.

func TestKilledWorkerProcessJobIsRescuedAndCompleted(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	s.DB.MustExec(`DELETE FROM cron_tasks WHERE name = 'rescue_jobs'`) // from an earlier -count run
	c := startChild(t, "block:"+k)
	id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 5})
	if got := c.expect(t, "started "); got != fmt.Sprintf("started %d", id) {
		t.Fatalf("child started %q, want job %d", got, id)
	}
	c.kill9(t)
	if row := getJob(t, s.DB, id); row.State != "running" || row.Attempt != 1 {
		t.Fatalf("job of the killed worker: %+v", row)
	}

	ev := newEvents()
	var runs sync.Map
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add, RescueAfter: time.Minute}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error { runs.Store(j.Attempt, true); return nil },
	})
	cron, err := jobs.NewCron(s.DB, jobs.CronConfig{RescueSchedule: "@every 1h", PruneSchedule: "off", ReplaySchedule: "off",
		SessionsSchedule: "off", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// Not yet past the rescue timeout: the job is left alone.
	if ran, err := cron.RunNow(ctx, "rescue_jobs"); err != nil || !ran {
		t.Fatalf("cron rescue tick: %v %v", ran, err)
	}
	ev.wait(t, "first rescue", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, jobs.KindRescue) == 1 })
	if row := getJob(t, s.DB, id); row.State != "running" {
		t.Fatalf("job rescued before its timeout: %+v", row)
	}
	// The timeout passes (simulated: the attempt began an hour ago).
	s.DB.MustExec(`UPDATE jobs SET attempted_at = now() - interval '1 hour' WHERE id = $1`, id)
	s.DB.MustExec(`UPDATE cron_tasks SET next_run_at = now() - interval '1 second' WHERE name = 'rescue_jobs'`)
	if ran, err := cron.RunNow(ctx, "rescue_jobs"); err != nil || !ran {
		t.Fatalf("second cron rescue tick: %v %v", ran, err)
	}
	ev.wait(t, "rescued job completed", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) == 1 })
	row := getJob(t, s.DB, id)
	if row.State != "completed" || row.Attempt != 2 || !strings.Contains(row.Errors, "rescued") {
		t.Fatalf("rescued job: %+v", row)
	}
	if _, again := runs.Load(1); again {
		t.Fatal("attempt 1 ran in the test process too")
	}
}

func TestRescueDiscardsJobOnItsLastAttempt(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 1})
	// As claimed by a worker that then died, long ago.
	s.DB.MustExec(`UPDATE jobs SET state = 'running', attempt = 1, attempted_by = 'dead', attempted_at = now() - interval '2 hours' WHERE id = $1`, id)
	rep, err := jobs.Rescue(ctx, s.DB, time.Hour)
	if err != nil || rep.Discarded < 1 {
		t.Fatalf("rescue: %+v %v", rep, err)
	}
	if row := getJob(t, s.DB, id); row.State != "discarded" || !strings.HasPrefix(row.LastError, "rescued") {
		t.Fatalf("job: %+v", row)
	}
}

func TestPruneDeletesOnlyOldFinishedJobs(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	old := enqueue(t, s.DB, jobs.Params{Kind: k})
	recent := enqueue(t, s.DB, jobs.Params{Kind: k})
	waiting := enqueue(t, s.DB, jobs.Params{Kind: k})
	s.DB.MustExec(`UPDATE jobs SET state = 'completed', finalized_at = now() - interval '8 days' WHERE id = $1`, old)
	s.DB.MustExec(`UPDATE jobs SET state = 'discarded', finalized_at = now() - interval '1 day' WHERE id = $1`, recent)
	if _, err := jobs.Prune(ctx, s.DB, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	var left []int64
	s.DB.Select(&left, `SELECT id FROM jobs WHERE kind = $1 ORDER BY id`, k)
	if fmt.Sprint(left) != fmt.Sprint([]int64{recent, waiting}) {
		t.Fatalf("after prune: %v, want [%d %d]", left, recent, waiting)
	}
}

func TestTwoWorkerProcessesShareTheQueue(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	s.DB.MustExec(`CREATE TABLE IF NOT EXISTS job_runs (job_id bigint NOT NULL, worker text NOT NULL)`)
	a := startChild(t, "record:"+k, "FP_JOBS_WORKER=a")
	b := startChild(t, "record:"+k, "FP_JOBS_WORKER=b")
	const total = 2000
	for i := 0; i < total; i += 100 {
		ps := make([]jobs.Params, 100)
		for j := range ps {
			ps[j] = jobs.Params{Kind: k}
		}
		if _, err := jobs.EnqueueMany(ctx, s.DB, ps); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all jobs completed", func() bool {
		var n int
		s.DB.Get(&n, `SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'completed'`, k)
		return n == total
	})
	a.terminate(t)
	b.terminate(t)
	var runs, distinct, workers int
	s.DB.QueryRow(`SELECT count(*), count(DISTINCT r.job_id), count(DISTINCT r.worker)
		FROM job_runs r JOIN jobs j ON j.id = r.job_id WHERE j.kind = $1`, k).Scan(&runs, &distinct, &workers)
	if runs != total || distinct != total {
		t.Fatalf("%d executions of %d distinct jobs, want %d of %d", runs, distinct, total, total)
	}
	if workers != 2 {
		t.Fatalf("only %d worker process(es) did work", workers)
	}
}

func TestCronRunsEachTickOnExactlyOneInstance(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	task := storetest.Name("task")
	newCron := func(instance string) *jobs.Cron {
		c, err := jobs.NewCron(s.DB, jobs.CronConfig{RescueSchedule: "off", PruneSchedule: "off", ReplaySchedule: "off",
			SessionsSchedule: "off", Instance: instance, Logger: quietLogger(),
			Extra: []jobs.CronTask{{Name: task, Schedule: "@every 1h", Job: jobs.Params{Kind: k}}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	crons := []*jobs.Cron{newCron("a"), newCron("b"), newCron("c")}
	tick := func() int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ran := 0
		for _, c := range crons {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := c.RunNow(ctx, task)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					ran++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return ran
	}
	if n := tick(); n != 1 {
		t.Fatalf("first tick ran on %d instances", n)
	}
	if n := tick(); n != 0 {
		t.Fatalf("the same tick ran again on %d instances", n)
	}
	// The next tick comes due while the first job is still queued: the
	// tick runs but adds no second job.
	s.DB.MustExec(`UPDATE cron_tasks SET next_run_at = now() - interval '1 second' WHERE name = $1`, task)
	if n := tick(); n != 1 {
		t.Fatalf("next tick ran on %d instances", n)
	}
	var jobsQueued int
	s.DB.Get(&jobsQueued, `SELECT count(*) FROM jobs WHERE kind = $1`, k)
	if jobsQueued != 1 {
		t.Fatalf("%d jobs queued, want 1", jobsQueued)
	}
}

func TestCronScheduleFires(t *testing.T) {
	s := storetest.Store(t)
	k := kind(t)
	fired := make(chan bool, 10)
	c, err := jobs.NewCron(s.DB, jobs.CronConfig{RescueSchedule: "off", PruneSchedule: "off", ReplaySchedule: "off",
		SessionsSchedule: "off", Logger: quietLogger(), OnRunFunc: func(_ string, ran bool) { fired <- ran },
		Extra: []jobs.CronTask{{Name: storetest.Name("every"), Schedule: "@every 1s", Job: jobs.Params{Kind: k}}}})
	if err != nil {
		t.Fatal(err)
	}
	c.Start(context.Background())
	defer c.Stop(context.Background())
	select {
	case ran := <-fired:
		if !ran {
			t.Fatal("the only instance did not run its tick")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("schedule never fired")
	}
	var n int
	s.DB.Get(&n, `SELECT count(*) FROM jobs WHERE kind = $1`, k)
	if n != 1 {
		t.Fatalf("%d jobs enqueued by the tick", n)
	}
	if _, err := jobs.NewCron(s.DB, jobs.CronConfig{RescueSchedule: "every now and then"}); err == nil {
		t.Fatal("a bad schedule was accepted")
	}
}

// A directive whose worker process dies inside the executor's transaction
// (after its write, before the commit) is rescued, executed again, and has
// its effect exactly once.
func TestKilledWorkerProcessDirectiveHasItsEffectOnce(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	s.DB.MustExec(`DELETE FROM cron_tasks WHERE name = 'rescue_jobs'`)
	slug := storetest.Name("kill")
	u, org, err := s.Register(ctx, store.Registration{OrgName: slug, OrgSlug: slug, Name: "Owner", Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	tn := org.Tenant()
	kindName := "test.kill" + slug[4:]
	c := startChild(t, "directive:"+kindName)

	var calls atomic.Int32
	dirs := directive.New(s, quietLogger(), directive.Kind{Name: kindName, Title: "Count", Pending: "Counting",
		Run: func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
			calls.Add(1)
			_, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.tenant_skills (skill_slug) VALUES ($1)`), "effect-"+d.ID)
			return nil, err
		}})
	dir, _, err := s.RequestDirective(ctx, tn, store.DirectiveRequest{Kind: kindName, UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.expect(t, "executing "); got != "executing "+dir.ID {
		t.Fatalf("child executes %q, want %s", got, dir.ID)
	}
	c.kill9(t)

	effects := func() int {
		var n int
		s.DB.Get(&n, `SELECT count(*) FROM `+pq.QuoteIdentifier(tn.Schema())+`.tenant_skills WHERE skill_slug = $1`, "effect-"+dir.ID)
		return n
	}
	if d, _ := s.Directive(ctx, tn, dir.ID); d.Status != store.DirectiveRunning || d.Attempt != 1 || effects() != 0 {
		t.Fatalf("after the kill: %s attempt %d, %d effects (the dead transaction must leave none)", d.Status, d.Attempt, effects())
	}

	ev := newEvents()
	r := jobs.New(s.DB, jobs.Config{DSN: storetest.DSN(), OnEventFunc: ev.add, RescueAfter: time.Minute,
		BackoffFunc: func(int) time.Duration { return 10 * time.Millisecond }, Logger: quietLogger()})
	dirs.RegisterJobs(r)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	cron, err := jobs.NewCron(s.DB, jobs.CronConfig{PruneSchedule: "off", ReplaySchedule: "off", SessionsSchedule: "off", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// The rescue timeout passes (simulated), and cron's tick rescues the job.
	s.DB.MustExec(`UPDATE jobs SET attempted_at = now() - interval '1 hour' WHERE state = 'running' AND tenant_schema = $1`, tn.Schema())
	if ran, err := cron.RunNow(ctx, "rescue_jobs"); err != nil || !ran {
		t.Fatalf("rescue tick: %v %v", ran, err)
	}
	ev.wait(t, "directive executed again", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, store.DirectiveJob) == 1 })
	d, _ := s.Directive(ctx, tn, dir.ID)
	if d.Status != store.DirectiveSucceeded || d.Attempt != 2 || effects() != 1 || calls.Load() != 1 {
		t.Fatalf("after rescue: %s attempt %d, %d effects, %d executions here; want succeeded, 2, 1, 1", d.Status, d.Attempt, effects(), calls.Load())
	}
}
