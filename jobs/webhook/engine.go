// Package webhook is the outward signal subscriber (SPEC §15): it POSTs
// an organization's signals to the webhook endpoints that want them,
// signed per Standard Webhooks.
//
// Two halves. The subscriber (Subscriber) reads each tenant's signal log
// from its cursor like every subscriber; its handler only queues the
// deliveries, one per matching endpoint, as the arguments of the job that
// makes their first attempts, in the cursor's transaction, so "delivered
// to the webhook engine" and "the deliveries are queued" commit together,
// once per signal. The delivery job then does each HTTP POST outside any
// transaction (10 s timeout, no redirects, the SSRF guard at dial time,
// the response's first 1 KB kept) and records each attempt with its
// delivery's new status and the job of its retry in one transaction. A
// signal's first attempts share a job (a job per delivery was most of the
// cost of a hundred-endpoint fanout); each retry is a job of its own, at
// its own time. Retries back off for about a day; an endpoint failing for
// 5 days is disabled.
//
// The delivery log is the deliveries' rows (store/webhook_deliveries.go,
// tenant migration 0018): a delivery's first attempt writes its row, with
// the attempt in the row's log; each later attempt appends to the log in
// the update that sets the status. A delivery costs one row write per
// attempt (it was three: a pending row, then an attempt row and an
// update); until its first attempt it is in the job queue, not the log.
//
// Delivery is at least once: a worker killed between the POST and its
// record sends again, with the same webhook-id, which receivers use to
// drop the repeat.
package webhook

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// Name is the subscriber's name (its cursors are kept under it).
const Name = "webhooks"

// DefaultSchedule is the wait before each retry: about 28 hours in all,
// after Standard Webhooks' reference schedule.
var DefaultSchedule = []time.Duration{5 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Config tunes the engine; zero values take the defaults.
type Config struct {
	Store *store.Store
	// AllowPrivate lets deliveries reach loopback and private addresses
	// (WEBHOOK_ALLOW_PRIVATE: tests, local development).
	AllowPrivate bool
	// Schedule is the wait before each retry; after the last, a delivery
	// has failed (default DefaultSchedule).
	Schedule []time.Duration
	// DisableAfter disables an endpoint failing for this long (5 days).
	DisableAfter time.Duration
	// Timeout bounds one attempt, response included (10 s).
	Timeout time.Duration
	// OnAttemptFunc, when set, is called for each committed attempt once
	// all of its job's attempts are (tests and benchmarks wait on it).
	OnAttemptFunc func(t store.Tenant, a store.WebhookAttempt)
	Logger        *slog.Logger
}

// Engine is the webhook subscriber and the delivery job.
type Engine struct {
	cfg     Config
	st      *store.Store
	log     *slog.Logger
	client  *http.Client
	rec     recorder
	tenants sync.Map // schema → store.Tenant
}

// New builds the engine.
func New(cfg Config) *Engine {
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = 5 * 24 * time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("component", "webhooks"), client: newClient(cfg)}
	e.rec = recorder{st: cfg.Store, disableAfter: cfg.DisableAfter, log: e.log}
	return e
}

// newClient is the HTTP client of deliveries: no proxy (it would dial on
// our behalf, past the guard), the guard on every dial, no redirects.
func newClient(cfg Config) *http.Client {
	d := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		d.Control = guardControl
	}
	return &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			DialContext: d.DialContext, ForceAttemptHTTP2: true, TLSHandshakeTimeout: cfg.Timeout,
			// Kept connections: many endpoints are often one receiver (one
			// host), and a new connection per attempt cost more than the
			// attempt.
			MaxIdleConns: 4096, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
			// No "Accept-Encoding: gzip" asked for by the transport: the
			// response is read only for its first 1 KB, which the log
			// shows as the receiver sent it.
			DisableCompression: true,
		},
		// A redirect is the receiver's answer, not an instruction to
		// POST elsewhere: recorded as a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Close closes the connections the engine keeps open to receivers (a
// delivery after it dials afresh). Call it once the delivery runner has
// stopped: kept connections otherwise last their idle timeout, each with
// goroutines of its own.
func (e *Engine) Close() { e.client.CloseIdleConnections() }

// AllowPrivate reports whether private addresses are allowed (the
// endpoint form checks URLs with it).
func (e *Engine) AllowPrivate() bool { return e.cfg.AllowPrivate }

// CheckURL is CheckURL with the engine's setting.
func (e *Engine) CheckURL(ctx context.Context, raw string) (string, error) {
	return CheckURL(ctx, raw, e.cfg.AllowPrivate)
}

// Subscriber is the webhook signal subscriber: from each tenant's latest
// signal on, every signal but private chat goes to the enabled endpoints
// whose patterns match it. Batches are kept small: a signal fans out to a
// row per endpoint, and a subscriber that has fallen behind should not
// make one transaction of thousands of them. It batches briefly
// (signal.Prompt): a receiver's delay is what webhooks are judged by.
func (e *Engine) Subscriber() signal.Subscriber {
	return signal.Subscriber{Name: Name, Signals: []string{"*"}, FromLatest: true, BatchSize: 50, Coalesce: signal.Prompt, HandleFunc: e.handle}
}

func (e *Engine) handle(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) error {
	eps, err := e.st.EnabledWebhookEndpointsTx(ctx, tx, d.Tenant)
	if err != nil || len(eps) == 0 {
		return err
	}
	ds := make([]store.NewWebhookDelivery, 0, len(eps)*len(d.Signals))
	for _, sig := range d.Signals {
		if private(sig) {
			continue
		}
		for _, ep := range eps {
			if ep.Wants(sig) {
				ds = append(ds, store.NewWebhookDelivery{EndpointID: ep.ID, SignalSeq: sig.Seq})
			}
		}
	}
	_, err = e.st.AddWebhookDeliveriesTx(ctx, tx, d.Tenant, ds)
	return err
}

// private: a member's chat is theirs alone, and never leaves the platform.
func private(sig store.Signal) bool {
	return strings.HasPrefix(sig.Name, "chat.") || strings.HasPrefix(sig.SubjectType, "chat_")
}

// RegisterJobs registers the delivery job on a runner. Give deliveries a
// runner of their own: an attempt may wait 10 s on a slow receiver, which
// must not hold up directives.
func (e *Engine) RegisterJobs(r *jobs.Runner) { r.Handle(store.WebhookDeliverJob, e.deliver) }

// attemptsPerJob bounds the requests one job has in flight at once.
const attemptsPerJob = 16

// deliver makes the attempts of a job, up to attemptsPerJob requests at
// once: each lane takes the next delivery as soon as its request returns
// and hands the attempt to the recorder, so a slow receiver holds up
// neither the others nor their records. A lane is held for the request
// only, not until its record commits: a lane held through the group
// commit sent 16 requests per commit latency. The lanes live for the job
// (not a goroutine per attempt, each growing a stack deep enough for an
// HTTP exchange). The job returns once every attempt is committed, with
// the status that records it. A delivery whose record failed is tried
// again by the job's retry (the others are skipped then).
func (e *Engine) deliver(ctx context.Context, j *jobs.Job) error {
	var args store.WebhookDeliveryArgs
	if err := j.DecodeArgs(&args); err != nil {
		return jobs.Permanent(err)
	}
	t, err := e.tenant(ctx, j.Tenant)
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Permanent(err)
	} else if err != nil {
		return err
	}
	sends, err := e.st.WebhookSendsFor(ctx, t, args, j.Attempt > 1)
	if err != nil || len(sends) == 0 {
		return err
	}
	// A signal's body is the same for every endpoint: built once.
	bodies := make(map[int64][]byte, 1)
	for _, w := range sends {
		if _, ok := bodies[w.Signal.Seq]; !ok {
			if bodies[w.Signal.Seq], err = Body(*w.Signal); err != nil {
				return jobs.Permanent(err)
			}
		}
	}
	attempts, errs := make([]store.WebhookAttempt, len(sends)), make([]error, len(sends))
	var recorded sync.WaitGroup
	recorded.Add(len(sends))
	var next atomic.Int32
	for range min(attemptsPerJob, len(sends)) {
		go func() {
			for i := int(next.Add(1)) - 1; i < len(sends); i = int(next.Add(1)) - 1 {
				w := &sends[i]
				attempts[i] = e.attempt(ctx, w, bodies[w.Signal.Seq], args.Attempt)
				e.rec.add(ctx, t, attempts[i], &errs[i], &recorded)
			}
		}()
	}
	done := make(chan struct{})
	go func() { recorded.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Timed out waiting: the attempts may still commit; those that
		// do not are sent again by the job's retry (same webhook-id).
		return ctx.Err()
	}
	if e.cfg.OnAttemptFunc != nil {
		for i, a := range attempts {
			if errs[i] == nil {
				e.cfg.OnAttemptFunc(t, a)
			}
		}
	}
	return errors.Join(errs...)
}

// tenant is TenantBySchema, remembered: an organization's id and slug
// never change, and a delivery job runs per attempt.
func (e *Engine) tenant(ctx context.Context, schema string) (store.Tenant, error) {
	if t, ok := e.tenants.Load(schema); ok {
		return t.(store.Tenant), nil
	}
	t, err := e.st.TenantBySchema(ctx, schema)
	if err == nil {
		e.tenants.Store(schema, t)
	}
	return t, err
}

// retryAt is when to try again after the attempt-th failure at now, with
// up to 10% jitter so a receiver coming back is not hit by every retry at
// once; zero after the last.
func (e *Engine) retryAt(attempt int, now time.Time) time.Time {
	if attempt > len(e.cfg.Schedule) {
		return time.Time{}
	}
	d := e.cfg.Schedule[attempt-1]
	return now.Add(d + time.Duration(rand.Int64N(int64(d)/10+1)))
}
