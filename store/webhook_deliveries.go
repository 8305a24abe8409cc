package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
)

// Webhook deliveries: one signal for one endpoint, recorded by the webhook
// subscriber in the transaction that moves its cursor, with the job that
// sends it; then every attempt, recorded in one transaction with the
// delivery's new status and the job of its retry.

// WebhookDeliverJob is the job kind that makes one attempt of a delivery.
const WebhookDeliverJob = "webhook.deliver"

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryRetrying  = "retrying"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// WebhookDeliveryArgs are a WebhookDeliverJob's arguments: the deliveries
// it attempts and which attempt of theirs it makes, so a job made stale by
// a redelivery (or run again after its worker died) skips what was done.
// A signal's first attempts to its endpoints share a job (up to
// webhookJobBatch of them): a job costs three writes of public.jobs and a
// wake-up, which at a hundred endpoints per signal was most of a
// delivery's cost. Retries are a job per delivery, each at its own time.
type WebhookDeliveryArgs struct {
	IDs     []string `json:"ids"`
	Attempt int      `json:"attempt"`
}

// webhookJobBatch bounds the deliveries of one job.
const webhookJobBatch = 100

// WebhookMessageID is the webhook-id of a signal sent to an endpoint: the
// same for every attempt and every redelivery, so receivers drop repeats.
func WebhookMessageID(signalID, endpointID string) string {
	sum := sha256.Sum256([]byte(signalID + "/" + endpointID))
	return "msg_" + hex.EncodeToString(sum[:16])
}

// webhookJobKey names the job of a delivery's attempt (the first
// delivery's, for a shared job).
func webhookJobKey(t Tenant, deliveryID string, attempt int) string {
	return fmt.Sprintf("webhook:%s:%s:%d", t.Schema(), deliveryID, attempt)
}

func webhookJob(t Tenant, ids []string, attempt int, at time.Time) jobs.Params {
	return jobs.Params{Kind: WebhookDeliverJob, Tenant: t.Schema(), Args: WebhookDeliveryArgs{IDs: ids, Attempt: attempt},
		ScheduledAt: at, UniqueKey: webhookJobKey(t, ids[0], attempt), MaxAttempts: 3}
}

// WebhookDelivery is one signal for one endpoint and how it went.
type WebhookDelivery struct {
	ID            string         `db:"id"`
	EndpointID    string         `db:"endpoint_id"`
	SignalSeq     int64          `db:"signal_seq"`
	SignalName    string         `db:"signal_name"`
	MessageID     string         `db:"message_id"`
	Status        string         `db:"status"`
	Attempts      int            `db:"attempts"`
	NextAttemptAt sql.NullTime   `db:"next_attempt_at"`
	LastStatus    sql.NullInt64  `db:"last_status"`
	LastError     sql.NullString `db:"last_error"`
	CreatedAt     time.Time      `db:"created_at"`
	DeliveredAt   sql.NullTime   `db:"delivered_at"`
	// Log is the delivery's attempts, oldest first (listing only).
	Log []WebhookAttemptRow `db:"-"`
}

const webhookDeliveryColumns = `d.id::text AS id, d.endpoint_id::text AS endpoint_id, d.signal_seq, d.signal_name, d.message_id,
	d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at`

// WebhookAttemptRow is one line of the delivery log.
type WebhookAttemptRow struct {
	DeliveryID  string         `db:"delivery_id"`
	Attempt     int            `db:"attempt"`
	AttemptedAt time.Time      `db:"attempted_at"`
	StatusCode  sql.NullInt64  `db:"status_code"`
	LatencyMS   int            `db:"latency_ms"`
	Error       sql.NullString `db:"error"`
	Response    string         `db:"response"`
}

// NewWebhookDelivery is a signal to send to an endpoint.
type NewWebhookDelivery struct {
	EndpointID string
	Signal     Signal
}

// AddWebhookDeliveriesTx records deliveries and enqueues their first
// attempts in tx, the webhook subscriber's cursor transaction.
func (s *Store) AddWebhookDeliveriesTx(ctx context.Context, tx *sqlx.Tx, t Tenant, ds []NewWebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	endpoints, seqs := make([]string, len(ds)), make([]int64, len(ds))
	names, msgs := make([]string, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		endpoints[i], seqs[i], names[i] = d.EndpointID, d.Signal.Seq, d.Signal.Name
		msgs[i] = WebhookMessageID(d.Signal.ID, d.EndpointID)
	}
	var ids []string
	if err := tx.SelectContext(ctx, &ids, t.SQL(`INSERT INTO {tenant}.webhook_deliveries (endpoint_id, signal_seq, signal_name, message_id)
		SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[]) RETURNING id::text`),
		pq.Array(endpoints), pq.Array(seqs), pq.Array(names), pq.Array(msgs)); err != nil {
		return fmt.Errorf("record webhook deliveries: %w", err)
	}
	var ps []jobs.Params
	for len(ids) > 0 {
		n := min(len(ids), webhookJobBatch)
		ps, ids = append(ps, webhookJob(t, ids[:n], 1, time.Time{})), ids[n:]
	}
	_, err := jobs.EnqueueMany(ctx, tx, ps)
	return err
}

// WebhookSend is what an attempt needs: the delivery (its identity,
// status and attempts), its endpoint and its signal.
type WebhookSend struct {
	Delivery WebhookDelivery `db:"d"`
	Endpoint WebhookEndpoint `db:"e"`
	Signal   Signal          `db:"s"`
}

// WebhookSendsFor reads the deliveries a job attempts: only those for
// which this is the next attempt (not succeeded, not redelivered since,
// not gone). A job's deliveries are one signal's to many endpoints, so the
// signal and each endpoint are read once, not joined onto every delivery:
// scanning a signal's and an endpoint's columns per row was a tenth of the
// engine's processor time at a hundred endpoints.
func (s *Store) WebhookSendsFor(ctx context.Context, t Tenant, args WebhookDeliveryArgs) ([]WebhookSend, error) {
	ids := make([]string, 0, len(args.IDs))
	for _, id := range args.IDs {
		if IsUUID(id) {
			ids = append(ids, id)
		}
	}
	// Only what an attempt reads of its delivery (the rest stays zero).
	var ds []WebhookDelivery
	if err := s.selectPrepared(ctx, nil, &ds, t.SQL(`SELECT d.id::text AS id, d.endpoint_id::text AS endpoint_id, d.signal_seq,
		d.signal_name, d.message_id, d.status, d.attempts FROM {tenant}.webhook_deliveries d
		WHERE d.id = ANY($1::uuid[]) AND d.attempts = $2 - 1 AND d.status IN ('pending', 'retrying')`), pq.Array(ids), args.Attempt); err != nil {
		return nil, fmt.Errorf("read webhook deliveries: %w", err)
	}
	if len(ds) == 0 {
		return nil, nil
	}
	endpointIDs, seqs := make([]string, 0, len(ds)), make([]int64, 0, 1)
	for _, d := range ds {
		if !slices.Contains(seqs, d.SignalSeq) {
			seqs = append(seqs, d.SignalSeq)
		}
		endpointIDs = append(endpointIDs, d.EndpointID)
	}
	var eps []WebhookEndpoint
	if err := s.selectPrepared(ctx, nil, &eps, t.SQL(`SELECT `+webhookEndpointColumns+` FROM {tenant}.webhook_endpoints
		WHERE id = ANY($1::uuid[])`), pq.Array(endpointIDs)); err != nil {
		return nil, fmt.Errorf("read webhook endpoints: %w", err)
	}
	var sigs []Signal
	if err := s.selectPrepared(ctx, nil, &sigs, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals WHERE seq = ANY($1::bigint[])`),
		pq.Array(seqs)); err != nil {
		return nil, fmt.Errorf("read webhook signals: %w", err)
	}
	endpoints := make(map[string]*WebhookEndpoint, len(eps))
	for i := range eps {
		endpoints[eps[i].ID] = &eps[i]
	}
	signals := make(map[int64]*Signal, len(sigs))
	for i := range sigs {
		signals[sigs[i].Seq] = &sigs[i]
	}
	out := make([]WebhookSend, 0, len(ds))
	for _, d := range ds {
		e, sig := endpoints[d.EndpointID], signals[d.SignalSeq]
		if e == nil || sig == nil {
			continue // its endpoint gone since: nothing to send it to
		}
		out = append(out, WebhookSend{Delivery: d, Endpoint: *e, Signal: *sig})
	}
	return out, nil
}

// WebhookAttempt is the outcome of one attempt, to record.
type WebhookAttempt struct {
	DeliveryID string
	EndpointID string
	Attempt    int
	At         time.Time
	StatusCode int // 0 when no response came
	Latency    time.Duration
	Error      string // "" on success
	Response   string // the body's first 1 KB, valid UTF-8
	OK         bool
	// RetryAt is when to try again after a failure; zero gives up.
	RetryAt time.Time
}

// RecordWebhookAttempts records attempts of one tenant's deliveries in one
// transaction: each attempt's log line with its delivery's new status and
// its retry's job, so an attempt counts once and commits with what
// follows from it. An attempt that is no longer its delivery's next (a
// rescued job ran it twice) is dropped. Endpoints whose failures have
// lasted disableAfter are disabled, with webhook.endpoint.disabled.
func (s *Store) RecordWebhookAttempts(ctx context.Context, t Tenant, as []WebhookAttempt, disableAfter time.Duration) error {
	if len(as) == 0 {
		return nil
	}
	return s.Tx(ctx, func(tx *sqlx.Tx) error {
		recorded, err := recordAttemptsTx(ctx, tx, t, as)
		if err != nil {
			return err
		}
		var retries []jobs.Params
		for _, a := range recorded {
			if !a.OK && !a.RetryAt.IsZero() {
				retries = append(retries, webhookJob(t, []string{a.DeliveryID}, a.Attempt+1, a.RetryAt))
			}
		}
		if _, err := jobs.EnqueueMany(ctx, tx, retries); err != nil {
			return err
		}
		return s.trackEndpointFailures(ctx, tx, t, recorded, disableAfter)
	})
}

// recordAttemptsTx writes the attempts that are still their delivery's
// next and returns those.
func recordAttemptsTx(ctx context.Context, tx *sqlx.Tx, t Tenant, as []WebhookAttempt) ([]WebhookAttempt, error) {
	n := len(as)
	ids, attempts, ats := make([]string, n), make([]int64, n), make([]time.Time, n)
	codes, latencies := make([]int64, n), make([]int64, n)
	errs, responses, oks := make([]string, n), make([]string, n), make([]bool, n)
	retries := make([]sql.NullTime, n)
	for i, a := range as {
		ids[i], attempts[i], ats[i], codes[i] = a.DeliveryID, int64(a.Attempt), a.At, int64(a.StatusCode)
		latencies[i], errs[i], responses[i], oks[i] = a.Latency.Milliseconds(), a.Error, a.Response, a.OK
		retries[i] = sql.NullTime{Time: a.RetryAt, Valid: !a.OK && !a.RetryAt.IsZero()}
	}
	var done []string
	err := tx.SelectContext(ctx, &done, t.SQL(`WITH a AS (
			SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::int[], $6::text[], $7::text[], $8::bool[], $9::timestamptz[])
			       AS a(delivery_id, attempt, at, status_code, latency_ms, error, response, ok, retry_at)
		), upd AS (
			UPDATE {tenant}.webhook_deliveries d
			   SET status = CASE WHEN a.ok THEN 'succeeded' WHEN a.retry_at IS NOT NULL THEN 'retrying' ELSE 'failed' END,
			       attempts = a.attempt, next_attempt_at = a.retry_at, last_status = nullif(a.status_code, 0),
			       last_error = nullif(a.error, ''), delivered_at = CASE WHEN a.ok THEN a.at ELSE d.delivered_at END, updated_at = now()
			  FROM a WHERE d.id = a.delivery_id AND d.attempts = a.attempt - 1 AND d.status IN ('pending', 'retrying')
			RETURNING d.id
		), ins AS (
			INSERT INTO {tenant}.webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, error, response)
			SELECT a.delivery_id, a.attempt, a.at, nullif(a.status_code, 0), a.latency_ms, nullif(a.error, ''), a.response
			  FROM a JOIN upd ON upd.id = a.delivery_id
		)
		SELECT id::text FROM upd`),
		pq.Array(ids), pq.Array(attempts), pq.Array(ats), pq.Array(codes), pq.Array(latencies), pq.Array(errs),
		pq.Array(responses), pq.Array(oks), pq.Array(retries))
	if err != nil {
		return nil, fmt.Errorf("record webhook attempts: %w", err)
	}
	// A set, not a search per attempt: batches are a thousand attempts.
	recorded := make(map[string]bool, len(done))
	for _, id := range done {
		recorded[id] = true
	}
	kept := make([]WebhookAttempt, 0, len(done))
	for _, a := range as {
		if recorded[a.DeliveryID] {
			kept = append(kept, a)
		}
	}
	return kept, nil
}

// trackEndpointFailures starts or ends each endpoint's run of failures by
// its latest attempt, and disables those failing for disableAfter.
func (s *Store) trackEndpointFailures(ctx context.Context, tx *sqlx.Tx, t Tenant, as []WebhookAttempt, disableAfter time.Duration) error {
	latest := map[string]WebhookAttempt{}
	for _, a := range as {
		if l, ok := latest[a.EndpointID]; !ok || !a.At.Before(l.At) {
			latest[a.EndpointID] = a
		}
	}
	var ids []string
	var oks []bool
	var ats []time.Time
	for _, id := range slices.Sorted(maps.Keys(latest)) {
		ids, oks, ats = append(ids, id), append(oks, latest[id].OK), append(ats, latest[id].At)
	}
	// Only rows whose failing_since changes are locked, in id order (no
	// deadlock between two recorders); a success on a healthy endpoint,
	// the common case, writes nothing.
	var failing []string
	if err := tx.SelectContext(ctx, &failing, t.SQL(`WITH x AS (
			SELECT * FROM unnest($1::uuid[], $2::bool[], $3::timestamptz[]) AS x(id, ok, at)
		), locked AS (
			SELECT e.id FROM {tenant}.webhook_endpoints e JOIN x ON x.id = e.id
			 WHERE (x.ok AND e.failing_since IS NOT NULL) OR (NOT x.ok AND e.failing_since IS NULL)
			 ORDER BY e.id FOR UPDATE OF e
		), upd AS (
			UPDATE {tenant}.webhook_endpoints e SET failing_since = CASE WHEN x.ok THEN NULL ELSE x.at END
			  FROM x, locked WHERE e.id = x.id AND locked.id = e.id
		)
		SELECT x.id::text FROM x WHERE NOT x.ok`), pq.Array(ids), pq.Array(oks), pq.Array(ats)); err != nil {
		return fmt.Errorf("track webhook endpoint failures: %w", err)
	}
	if len(failing) == 0 {
		return nil
	}
	var disabled []WebhookEndpoint
	if err := tx.SelectContext(ctx, &disabled, t.SQL(`UPDATE {tenant}.webhook_endpoints
		SET enabled = false, disabled_reason = 'failing since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), updated_at = now()
		WHERE id = ANY($1::uuid[]) AND enabled AND failing_since <= now() - $2 * interval '1 second'
		RETURNING `+webhookEndpointColumns), pq.Array(failing), int64(disableAfter/time.Second)); err != nil {
		return fmt.Errorf("disable failing webhook endpoints: %w", err)
	}
	for _, e := range disabled {
		if _, err := s.emitWebhookEndpoint(ctx, tx, t, SystemActor("webhooks"), "webhook.endpoint.disabled", e,
			map[string]any{"reason": e.DisabledReason.String, "failing_since": e.FailingSince.Time}); err != nil {
			return err
		}
	}
	return nil
}

// WebhookDeliveries lists an endpoint's deliveries, newest first, each
// with its attempts: the delivery log. before is the previous page's last
// delivery id ("" for the first page); next is this page's, "" at the end.
func (s *Store) WebhookDeliveries(ctx context.Context, t Tenant, endpointID, before string, limit int) (out []WebhookDelivery, next string, err error) {
	limit = clampLimit(limit, 200)
	c := conds{}
	c.add("d.endpoint_id = ?", endpointID)
	if IsUUID(before) {
		c.add("(d.created_at, d.id) < (SELECT created_at, id FROM {tenant}.webhook_deliveries WHERE id = ?)", before)
	}
	q := `SELECT ` + webhookDeliveryColumns + ` FROM {tenant}.webhook_deliveries d` + c.sql() + ` ORDER BY d.created_at DESC, d.id DESC` + c.limit(limit+1)
	if err := s.DB.SelectContext(ctx, &out, t.SQL(q), c.args...); err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
	}
	if len(out) > limit {
		out, next = out[:limit], out[limit-1].ID
	}
	if len(out) == 0 {
		return out, next, nil
	}
	ids := make([]string, len(out))
	at := map[string]int{}
	for i, d := range out {
		ids[i], at[d.ID] = d.ID, i
	}
	var log []WebhookAttemptRow
	if err := s.DB.SelectContext(ctx, &log, t.SQL(`SELECT delivery_id::text AS delivery_id, attempt, attempted_at, status_code, latency_ms, error, response
		FROM {tenant}.webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt`), pq.Array(ids)); err != nil {
		return nil, "", fmt.Errorf("list webhook attempts: %w", err)
	}
	for _, l := range log {
		out[at[l.DeliveryID]].Log = append(out[at[l.DeliveryID]].Log, l)
	}
	return out, next, nil
}

// RedeliverWebhook sends a delivery again now, as its next attempt (same
// webhook-id), whatever its status; a retry it was waiting for is
// withdrawn. The endpoint must be enabled.
func (s *Store) RedeliverWebhook(ctx context.Context, t Tenant, id string) (d WebhookDelivery, err error) {
	if !IsUUID(id) {
		return d, ErrNotFound
	}
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &d, t.SQL(`SELECT `+webhookDeliveryColumns+` FROM {tenant}.webhook_deliveries d WHERE d.id = $1 FOR UPDATE`), id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("read webhook delivery: %w", err)
		}
		e, err := webhookEndpoint(ctx, tx, t, d.EndpointID, "FOR SHARE")
		if err != nil {
			return err
		}
		if !e.Enabled {
			return Invalid("", "This endpoint is disabled: enable it to redeliver.")
		}
		if d.Attempts == 0 {
			// Its first attempt is queued (in its signal's shared job).
			return Invalid("", "This delivery has not been attempted yet: it is on its way.")
		}
		if _, err := jobs.CancelByKey(ctx, tx, webhookJobKey(t, d.ID, d.Attempts+1)); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &d, t.SQL(`UPDATE {tenant}.webhook_deliveries d SET status = 'pending', next_attempt_at = now(), updated_at = now()
			WHERE d.id = $1 RETURNING `+webhookDeliveryColumns), id); err != nil {
			return fmt.Errorf("redeliver webhook: %w", err)
		}
		_, _, err = jobs.Enqueue(ctx, tx, webhookJob(t, []string{d.ID}, d.Attempts+1, time.Time{}))
		return err
	})
	return d, err
}
