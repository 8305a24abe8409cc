package jobs_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/jobs/directive"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// The test binary doubles as a worker process: with FP_JOBS_CHILD set it
// runs a Runner against FP_JOBS_DSN instead of the tests, so tests can
// kill -9 a real process or run two of them side by side.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FP_JOBS_CHILD"); mode != "" {
		os.Exit(childMain(mode))
	}
	os.Exit(storetest.Main(m))
}

// The heartbeats of the tests' worker processes and of the runners that
// rescue their jobs: seconds where production has tens of them.
const (
	testHeartbeatTimeout  = 2 * time.Second
	testHeartbeatInterval = 200 * time.Millisecond
	testRescueInterval    = 100 * time.Millisecond
)

// childMain runs a worker process, with test heartbeats and, when
// FP_JOBS_TENANT is set, on that tenant's jobs only. Modes:
//
//	block:<kind>  announce "started <id>" and block until killed
//	record:<kind> insert a row into job_runs per execution, tagged with FP_JOBS_WORKER
//	directive:<kind> execute directives of kind: write the effect, announce, block
func childMain(mode string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	db, err := store.Open(ctx, os.Getenv("FP_JOBS_DSN"), 10)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := jobs.Config{DSN: os.Getenv("FP_JOBS_DSN"), MaxWorkers: 4, PollInterval: 50 * time.Millisecond, Logger: log,
		HeartbeatTimeout: testHeartbeatTimeout, HeartbeatInterval: testHeartbeatInterval}
	if tn := os.Getenv("FP_JOBS_TENANT"); tn != "" {
		cfg.Tenants = []string{tn}
	}
	r := jobs.New(db, cfg)
	what, kind, _ := strings.Cut(mode, ":")
	var out sync.Mutex
	switch what {
	case "block":
		r.Handle(kind, func(ctx context.Context, j *jobs.Job) error {
			out.Lock()
			fmt.Printf("started %d\n", j.ID)
			out.Unlock()
			select {} // until kill -9
		})
	case "record":
		worker := os.Getenv("FP_JOBS_WORKER")
		r.Handle(kind, func(ctx context.Context, j *jobs.Job) error {
			_, err := db.ExecContext(ctx, `INSERT INTO job_runs (job_id, worker) VALUES ($1, $2)`, j.ID, worker)
			return err
		})
	case "directive":
		// Execute directives of this kind, announce, and die (kill -9)
		// inside the executor's transaction, after its write.
		st, err := store.New(db, 4)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		dirs := directive.New(st, log, directive.Kind{Name: kind, Title: "Die", Pending: "Dying", Run: func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (any, error) {
			if _, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.tenant_skills (skill_slug) VALUES ($1)`), "effect-"+d.ID); err != nil {
				return nil, err
			}
			out.Lock()
			fmt.Printf("executing %s\n", d.ID)
			out.Unlock()
			select {}
		}})
		dirs.RegisterJobs(r)
	default:
		fmt.Fprintln(os.Stderr, "unknown child mode", mode)
		return 2
	}
	if err := r.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out.Lock()
	fmt.Println("ready")
	out.Unlock()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.Stop(sctx)
	return 0
}

// child is a worker process started by a test.
type child struct {
	cmd   *exec.Cmd
	lines chan string
}

func startChild(t *testing.T, mode string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"FP_JOBS_CHILD=" + mode, "FP_JOBS_DSN=" + storetest.DSN()}, env...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	c.expect(t, "ready")
	return c
}

// expect waits for a line starting with prefix and returns it.
func (c *child) expect(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("child exited before printing %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("child did not print %q in time", prefix)
		}
	}
}

func (c *child) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
}

func (c *child) terminate(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("child exit: %v", err)
	}
}

// events collects a runner's events and lets a test wait for them.
type events struct {
	mu   sync.Mutex
	all  []jobs.Event
	cond chan struct{} // closed and replaced on every event
}

func newEvents() *events { return &events{cond: make(chan struct{})} }

func (e *events) add(ev jobs.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	close(e.cond)
	e.cond = make(chan struct{})
	e.mu.Unlock()
}

// wait blocks until pred holds over the events so far.
func (e *events) wait(t *testing.T, what string, pred func([]jobs.Event) bool) []jobs.Event {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		e.mu.Lock()
		ok := pred(e.all)
		snapshot := append([]jobs.Event(nil), e.all...)
		ch := e.cond
		e.mu.Unlock()
		if ok {
			return snapshot
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s; %d events so far", what, len(snapshot))
		}
	}
}

func count(evs []jobs.Event, kind jobs.EventKind, jobKind string) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == kind && ev.Job.Kind == jobKind {
			n++
		}
	}
	return n
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// startRunner starts a runner with test-friendly defaults, stopped at cleanup.
func startRunner(t *testing.T, db *sqlx.DB, cfg jobs.Config, handlers map[string]jobs.HandlerFunc) *jobs.Runner {
	t.Helper()
	if cfg.DSN == "" {
		cfg.DSN = storetest.DSN()
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	if cfg.BackoffFunc == nil {
		cfg.BackoffFunc = func(int) time.Duration { return 10 * time.Millisecond }
	}
	r := jobs.New(db, cfg)
	for k, fn := range handlers {
		r.Handle(k, fn)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Stop(ctx)
	})
	return r
}

// waitFor polls the database for a condition other processes bring about
// (their events cannot reach this process).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

type jobRow struct {
	State     string `db:"state"`
	Attempt   int    `db:"attempt"`
	LastError string `db:"last_error"`
	Errors    string `db:"errors"`
}

func getJob(t *testing.T, db *sqlx.DB, id int64) jobRow {
	t.Helper()
	var r jobRow
	if err := db.Get(&r, `SELECT state, attempt, coalesce(last_error, '') AS last_error, errors::text AS errors FROM jobs WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return r
}

func enqueue(t *testing.T, db *sqlx.DB, p jobs.Params) int64 {
	t.Helper()
	id, ok, err := jobs.Enqueue(context.Background(), db, p)
	if err != nil || !ok {
		t.Fatalf("enqueue: %v (inserted %v)", err, ok)
	}
	return id
}

func kind(t *testing.T) string { return storetest.Name("k") }
