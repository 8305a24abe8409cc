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

// A worker process that claimed a job keeps it while it lives, however
// long past its heartbeat timeout, and once it is killed (kill -9: no
// shutdown, no release) another runner completes the job within seconds.
func TestKilledWorkerProcessJobIsRescuedWithinSeconds(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	k := kind(t)
	c := startChild(t, "block:"+k)
	id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 5})
	if got := c.expect(t, "started "); got != fmt.Sprintf("started %d", id) {
		t.Fatalf("child started %q, want job %d", got, id)
	}

	ev := newEvents()
	var runs sync.Map
	startRunner(t, s.DB, jobs.Config{OnEventFunc: ev.add, RescueInterval: testRescueInterval}, map[string]jobs.HandlerFunc{
		k: func(ctx context.Context, j *jobs.Job) error { runs.Store(j.Attempt, true); return nil },
	})
	// This runner's rescuer looks ten times a second, while the child's
	// heartbeats carry the job past the timeout it promised.
	waitFor(t, "heartbeats past the timeout", func() bool {
		var beyond bool
		s.DB.Get(&beyond, `SELECT heartbeat_at - attempted_at > $2 * interval '1 millisecond' FROM jobs WHERE id = $1`,
			id, (testHeartbeatTimeout + testHeartbeatInterval).Milliseconds())
		return beyond
	})
	if row := getJob(t, s.DB, id); row.State != "running" || row.Attempt != 1 {
		t.Fatalf("job of a live, heartbeating worker was taken: %+v", row)
	}

	killed := time.Now()
	c.kill9(t)
	ev.wait(t, "rescued job completed", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, k) == 1 })
	// The heartbeat timeout, the rescuer's next look, a claim: seconds.
	took, limit := time.Since(killed), testHeartbeatTimeout+3*time.Second
	if took > limit {
		t.Fatalf("completed %s after the kill, want ≤ %s", took, limit)
	}
	t.Logf("completed by another runner %s after the kill (heartbeat timeout %s)", took.Round(time.Millisecond), testHeartbeatTimeout)
	row := getJob(t, s.DB, id)
	if row.State != "completed" || row.Attempt != 2 || !strings.Contains(row.Errors, "rescued: no heartbeat") {
		t.Fatalf("rescued job: %+v", row)
	}
	if _, again := runs.Load(1); again {
		t.Fatal("attempt 1 ran in the test process too")
	}
}

// The defaults keep the promise of SPEC §17: a job whose worker was killed
// is rescued within 30 s, and a live worker's job never is.
func TestDefaultHeartbeatsRescueWithinThirtySeconds(t *testing.T) {
	t.Parallel()
	cfg := jobs.New(nil, jobs.Config{}).Config()
	if cfg.HeartbeatTimeout != 15*time.Second || cfg.HeartbeatInterval != 5*time.Second || cfg.RescueInterval != 5*time.Second {
		t.Fatalf("heartbeat timeout %s, interval %s, rescue every %s; want 15s, 5s, 5s",
			cfg.HeartbeatTimeout, cfg.HeartbeatInterval, cfg.RescueInterval)
	}
	// Worst case: the kill comes just after a heartbeat; the job is due a
	// timeout later and found at the rescuer's next look. The claim that
	// follows is woken by a notification, so the job itself has the rest.
	if worst := cfg.HeartbeatTimeout + cfg.RescueInterval; worst > 20*time.Second {
		t.Fatalf("a dead worker's job is rescued up to %s after the kill, want ≤ 20s (to finish within 30s)", worst)
	}
	// A beat is skipped when the last is under half an interval old, so a
	// live job's heartbeat is at most 1.5 intervals old: one more missed
	// beat still does not get it rescued.
	if oldest := 3 * cfg.HeartbeatInterval / 2; oldest+cfg.HeartbeatInterval >= cfg.HeartbeatTimeout {
		t.Fatalf("a live job's heartbeat may be %s old, too close to the %s timeout", oldest, cfg.HeartbeatTimeout)
	}
	if c := jobs.New(nil, jobs.Config{HeartbeatTimeout: 3 * time.Second}).Config(); c.HeartbeatInterval != time.Second {
		t.Fatalf("a 3s timeout beats every %s, want a third of it", c.HeartbeatInterval)
	}
}

// Rescue decides by what the claiming runner wrote on the job: its
// heartbeat and timeout. Only a job claimed without a timeout (by a
// runner of the previous release) is judged by how long it has run.
func TestRescueReadsEachJobsOwnHeartbeatTimeout(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	claimed := func(set string) int64 {
		id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 3})
		s.DB.MustExec(`UPDATE jobs SET state = 'running', attempt = 1, attempted_by = 'elsewhere', `+set+` WHERE id = $1`, id)
		return id
	}
	silent := claimed(`attempted_at = now() - interval '1 minute', heartbeat_at = now() - interval '20 seconds', heartbeat_timeout = '15 seconds'`)
	beating := claimed(`attempted_at = now() - interval '2 hours', heartbeat_at = now() - interval '1 second', heartbeat_timeout = '15 seconds'`)
	patient := claimed(`attempted_at = now() - interval '1 minute', heartbeat_at = now() - interval '1 minute', heartbeat_timeout = '1 hour'`)
	old := claimed(`attempted_at = now() - interval '2 hours'`)
	young := claimed(`attempted_at = now() - interval '1 minute'`)
	if _, err := jobs.Rescue(ctx, s.DB, time.Hour); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]string{silent: "available", beating: "running", patient: "running", old: "available", young: "running"} {
		if row := getJob(t, s.DB, id); row.State != want {
			t.Errorf("job %d: %s, want %s (%+v)", id, row.State, want, row)
		}
	}
	if row := getJob(t, s.DB, silent); !strings.HasPrefix(row.LastError, "rescued: no heartbeat from elsewhere") {
		t.Errorf("silent job's error: %q", row.LastError)
	}
	// (Another runner's rescuer, with its own limit, may have been first.)
	if row := getJob(t, s.DB, old); !strings.HasPrefix(row.LastError, "rescued: still running after") {
		t.Errorf("old job's error: %q", row.LastError)
	}
	// Nothing else may hold these running rows: settle them for the others.
	s.DB.MustExec(`UPDATE jobs SET state = 'cancelled', finalized_at = now() WHERE kind = $1 AND state = 'running'`, k)
}

func TestRescueDiscardsJobOnItsLastAttempt(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	k := kind(t)
	id := enqueue(t, s.DB, jobs.Params{Kind: k, MaxAttempts: 1})
	// As claimed by a worker that then died: its heartbeat ran out.
	s.DB.MustExec(`UPDATE jobs SET state = 'running', attempt = 1, attempted_by = 'dead', attempted_at = now() - interval '1 minute',
		heartbeat_at = now() - interval '1 minute', heartbeat_timeout = '15 seconds' WHERE id = $1`, id)
	// Any runner's rescuer may get there first: judge by the row.
	if _, err := jobs.Rescue(ctx, s.DB, time.Hour); err != nil {
		t.Fatalf("rescue: %v", err)
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
// (after its write, before the commit) is rescued within seconds,
// executed again, and has its effect exactly once.
func TestKilledWorkerProcessDirectiveHasItsEffectOnce(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	slug := storetest.Name("kill")
	u, org, err := s.Register(ctx, store.Registration{OrgName: slug, OrgSlug: slug, Name: "Owner", Email: slug + "@example.com", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	tn := org.Tenant()
	kindName := "test.kill" + slug[4:]
	c := startChild(t, "directive:"+kindName, "FP_JOBS_TENANT="+tn.Schema())

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
	killed := time.Now()
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
	r := jobs.New(s.DB, jobs.Config{DSN: storetest.DSN(), Tenants: []string{tn.Schema()}, OnEventFunc: ev.add, RescueInterval: testRescueInterval,
		BackoffFunc: func(int) time.Duration { return 10 * time.Millisecond }, Logger: quietLogger()})
	dirs.RegisterJobs(r)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	ev.wait(t, "directive executed again", func(evs []jobs.Event) bool { return count(evs, jobs.EventCompleted, store.DirectiveJob) == 1 })
	took, limit := time.Since(killed), testHeartbeatTimeout+3*time.Second
	if took > limit {
		t.Fatalf("directive finished %s after the kill, want ≤ %s", took, limit)
	}
	t.Logf("directive finished %s after the kill (heartbeat timeout %s)", took.Round(time.Millisecond), testHeartbeatTimeout)
	d, _ := s.Directive(ctx, tn, dir.ID)
	if d.Status != store.DirectiveSucceeded || d.Attempt != 2 || effects() != 1 || calls.Load() != 1 {
		t.Fatalf("after rescue: %s attempt %d, %d effects, %d executions here; want succeeded, 2, 1, 1", d.Status, d.Attempt, effects(), calls.Load())
	}
}
