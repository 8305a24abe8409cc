package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
)

// Webhook deliveries: one signal for one endpoint. The webhook subscriber
// queues a signal's deliveries as the arguments of the job that makes
// their first attempts, in the transaction that moves its cursor; the
// first attempt writes the delivery's row, with its status and the
// attempt in the row's log, and the job of its retry, in one transaction;
// each later attempt (a retry, a redelivery) appends to the log in the
// update that sets the status (tenant migration 0018). So a delivery
// costs one row write per attempt, and the pending ones are in the job
// queue, not in the log, until their first attempt: a delivery log lists
// what was attempted.

// WebhookDeliverJob is the job kind that makes one attempt of deliveries.
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
	// IDs are recorded deliveries (a retry, a redelivery, or first
	// attempts queued before migration 0018).
	IDs     []string `json:"ids,omitempty"`
	Attempt int      `json:"attempt"`
	// Seq, First and Endpoints are a signal's first attempts, deliveries
	// with no row yet: the signal, the first delivery's id, and the
	// endpoint of each delivery, whose id is First's with its last four
	// hex digits its index here (firstDeliveryID). Listing a hundred ids
	// beside the endpoints doubled the job's arguments, which PostgreSQL
	// parses as jsonb and compresses.
	Seq       int64    `json:"seq,omitempty"`
	First     string   `json:"first,omitempty"`
	Endpoints []string `json:"endpoints,omitempty"`
}

// firstDeliveryID is the id of the i-th delivery of a job whose first is
// first (the last 16 bits of first are zero; a job holds at most
// webhookJobBatch deliveries).
func firstDeliveryID(first string, i int) string {
	const hexDigits = "0123456789abcdef"
	b := []byte(first)
	for j := range 4 {
		b[len(b)-1-j] = hexDigits[(i>>(4*j))&0xf]
	}
	return string(b)
}

// key is the delivery whose id names the job's unique key.
func (a WebhookDeliveryArgs) key() string {
	if a.First != "" {
		return a.First
	}
	return a.IDs[0]
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

func webhookJob(t Tenant, args WebhookDeliveryArgs, at time.Time) jobs.Params {
	return jobs.Params{Kind: WebhookDeliverJob, Tenant: t.Schema(), Args: args,
		ScheduledAt: at, UniqueKey: webhookJobKey(t, args.key(), args.Attempt), MaxAttempts: 3}
}

// newDeliveryIDs returns n new ids for the first deliveries of jobs: UUIDs
// of version 7 (the time in milliseconds, then random bits), so a signal's
// rows are added at the end of the primary key's index rather than on a
// hundred random pages, with their last 16 bits zero (firstDeliveryID
// numbers a job's deliveries there; 58 random bits remain).
func newDeliveryIDs(n int) []string {
	b := make([]byte, 16*n)
	rand.Read(b)
	ms := uint64(time.Now().UnixMilli())
	ids := make([]string, n)
	var text [36]byte
	for i := range ids {
		u := b[16*i : 16*i+16]
		for j := range 6 {
			u[j] = byte(ms >> (40 - 8*j))
		}
		u[6] = 0x70 | u[6]&0x0f // version 7
		u[8] = 0x80 | u[8]&0x3f // the RFC 9562 variant
		u[14], u[15] = 0, 0
		hex.Encode(text[0:8], u[0:4])
		hex.Encode(text[9:13], u[4:6])
		hex.Encode(text[14:18], u[6:8])
		hex.Encode(text[19:23], u[8:10])
		hex.Encode(text[24:], u[10:])
		text[8], text[13], text[18], text[23] = '-', '-', '-', '-'
		ids[i] = string(text[:])
	}
	return ids
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
	Attempt     int
	AttemptedAt time.Time
	StatusCode  sql.NullInt64 // no response came when not valid
	LatencyMS   int
	Error       sql.NullString // not valid on success
	Response    string
}

// logEntry is a WebhookAttemptRow as the row's log keeps it (attemptEntry
// in recordAttemptsSQL writes it).
type logEntry struct {
	Attempt  int       `json:"attempt"`
	At       time.Time `json:"at"`
	Status   *int64    `json:"status"`
	MS       int       `json:"ms"`
	Error    *string   `json:"error"`
	Response string    `json:"response"`
}

func (e logEntry) row() WebhookAttemptRow {
	r := WebhookAttemptRow{Attempt: e.Attempt, AttemptedAt: e.At, LatencyMS: e.MS, Response: e.Response}
	if e.Status != nil {
		r.StatusCode = sql.NullInt64{Int64: *e.Status, Valid: true}
	}
	if e.Error != nil {
		r.Error = sql.NullString{String: *e.Error, Valid: true}
	}
	return r
}

// NewWebhookDelivery is a signal to send to an endpoint.
type NewWebhookDelivery struct {
	EndpointID string
	SignalSeq  int64
}

// AddWebhookDeliveriesTx queues deliveries in tx, the webhook
// subscriber's cursor transaction: a job per signal (per webhookJobBatch
// of its endpoints) makes their first attempts, which write their rows.
// It returns the deliveries' ids, in order.
func (s *Store) AddWebhookDeliveriesTx(ctx context.Context, tx *sqlx.Tx, t Tenant, ds []NewWebhookDelivery) ([]string, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	var ps []jobs.Params
	ids := make([]string, 0, len(ds))
	for i := 0; i < len(ds); {
		args := WebhookDeliveryArgs{Attempt: 1, Seq: ds[i].SignalSeq, First: newDeliveryIDs(1)[0]}
		for ; i < len(ds) && ds[i].SignalSeq == args.Seq && len(args.Endpoints) < webhookJobBatch; i++ {
			ids = append(ids, firstDeliveryID(args.First, len(args.Endpoints)))
			args.Endpoints = append(args.Endpoints, ds[i].EndpointID)
		}
		ps = append(ps, webhookJob(t, args, time.Time{}))
	}
	if _, err := jobs.EnqueueMany(ctx, tx, ps); err != nil {
		return nil, err
	}
	return ids, nil
}

// WebhookSend is what an attempt needs: the delivery (its identity,
// status and attempts), its endpoint and its signal. New is set on a
// first attempt whose record writes the delivery's row.
type WebhookSend struct {
	Delivery WebhookDelivery
	Endpoint *WebhookEndpoint
	Signal   *Signal
	New      bool
}

// webhookSendColumns are what sending reads of an endpoint.
const webhookSendColumns = `id::text, url, secret, previous_secret, previous_expires_at, enabled, failing_since`

// WebhookSendsFor reads the deliveries a job attempts: only those for
// which this is the next attempt (not succeeded, not redelivered since,
// not gone). rerun says the job ran before (its worker died, or its
// record failed): first attempts then skip the deliveries that ran and
// were recorded. A job's deliveries are one signal's to many endpoints,
// so the signal and each endpoint are read once.
func (s *Store) WebhookSendsFor(ctx context.Context, t Tenant, args WebhookDeliveryArgs, rerun bool) ([]WebhookSend, error) {
	var ds []WebhookDelivery
	var err error
	if len(args.Endpoints) > 0 {
		ds, err = s.firstDeliveries(ctx, t, args, rerun)
	} else {
		ds, err = s.recordedDeliveries(ctx, t, args)
	}
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	endpointIDs, seqs := make([]string, 0, len(ds)), make([]int64, 0, 1)
	for _, d := range ds {
		if !slices.Contains(seqs, d.SignalSeq) {
			seqs = append(seqs, d.SignalSeq)
		}
		endpointIDs = append(endpointIDs, d.EndpointID)
	}
	eps := make([]WebhookEndpoint, 0, len(endpointIDs))
	if err := s.scanEndpoints(ctx, nil, t.SQL(`SELECT `+webhookSendColumns+` FROM {tenant}.webhook_endpoints
		WHERE id = ANY($1::uuid[])`), []any{pq.Array(endpointIDs)}, func(e *WebhookEndpoint) []any {
		return []any{&e.ID, &e.URL, &e.Secret, &e.PreviousSecret, &e.PreviousExpiresAt, &e.Enabled, &e.FailingSince}
	}, &eps); err != nil {
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
	out := make([]WebhookSend, 0, len(ds))
	for _, d := range ds {
		e, i := endpoints[d.EndpointID], slices.IndexFunc(sigs, func(s Signal) bool { return s.Seq == d.SignalSeq })
		if e == nil || i < 0 {
			continue // its endpoint gone since: nothing to send it to
		}
		w := WebhookSend{Delivery: d, Endpoint: e, Signal: &sigs[i], New: d.Attempts == 0 && len(args.Endpoints) > 0}
		if w.Delivery.MessageID == "" {
			w.Delivery.SignalName, w.Delivery.MessageID = sigs[i].Name, WebhookMessageID(sigs[i].ID, e.ID)
		}
		out = append(out, w)
	}
	return out, nil
}

// firstDeliveries are a signal's first attempts from the job's arguments;
// on a rerun, less those already recorded.
func (s *Store) firstDeliveries(ctx context.Context, t Tenant, args WebhookDeliveryArgs, rerun bool) ([]WebhookDelivery, error) {
	if !IsUUID(args.First) || len(args.Endpoints) > webhookJobBatch {
		return nil, fmt.Errorf("webhook job: bad first deliveries (%q, %d endpoints)", args.First, len(args.Endpoints))
	}
	ds := make([]WebhookDelivery, 0, len(args.Endpoints))
	for i, ep := range args.Endpoints {
		if IsUUID(ep) {
			ds = append(ds, WebhookDelivery{ID: firstDeliveryID(args.First, i), EndpointID: ep, SignalSeq: args.Seq, Status: DeliveryPending})
		}
	}
	if !rerun {
		return ds, nil
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	var done []string
	if err := s.DB.SelectContext(ctx, &done, t.SQL(`SELECT id::text FROM {tenant}.webhook_deliveries WHERE id = ANY($1::uuid[])`),
		pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("read webhook deliveries: %w", err)
	}
	return slices.DeleteFunc(ds, func(d WebhookDelivery) bool { return slices.Contains(done, d.ID) }), nil
}

// recordedDeliveries are the deliveries with rows whose next attempt this is.
func (s *Store) recordedDeliveries(ctx context.Context, t Tenant, args WebhookDeliveryArgs) ([]WebhookDelivery, error) {
	ids := uuids(args.IDs)
	// Only what an attempt reads of its delivery (the rest stays zero).
	var ds []WebhookDelivery
	if err := s.selectPrepared(ctx, nil, &ds, t.SQL(`SELECT d.id::text AS id, d.endpoint_id::text AS endpoint_id, d.signal_seq,
		d.signal_name, d.message_id, d.status, d.attempts FROM {tenant}.webhook_deliveries d
		WHERE d.id = ANY($1::uuid[]) AND d.attempts = $2 - 1 AND d.status IN ('pending', 'retrying')`), pq.Array(ids), args.Attempt); err != nil {
		return nil, fmt.Errorf("read webhook deliveries: %w", err)
	}
	return ds, nil
}

// WebhookAttempt is the outcome of one attempt, to record.
type WebhookAttempt struct {
	DeliveryID string
	EndpointID string
	// New says this attempt writes the delivery's row (a first attempt
	// queued by the subscriber), which then needs the signal's seq and
	// name and the message id.
	New        bool
	SignalSeq  int64
	SignalName string
	MessageID  string
	Attempt    int
	At         time.Time
	StatusCode int // 0 when no response came
	Latency    time.Duration
	Error      string // "" on success
	Response   string // the body's first 1 KB, valid UTF-8
	OK         bool
	// EndpointHealthy says the endpoint had no run of failures when the
	// attempt's job read it: a success then leaves it as it is, and a
	// batch of such successes writes nothing to the endpoints.
	EndpointHealthy bool
	// RetryAt is when to try again after a failure; zero gives up.
	RetryAt time.Time
}

// RecordWebhookAttempts records attempts of one tenant's deliveries in one
// transaction: each attempt in its delivery's row with the delivery's new
// status, and its retry's job, so an attempt counts once and commits with
// what follows from it. An attempt that is no longer its delivery's next
// (a rescued job ran it twice) is dropped. Endpoints whose failures have
// lasted disableAfter are disabled, with webhook.endpoint.disabled.
func (s *Store) RecordWebhookAttempts(ctx context.Context, t Tenant, as []WebhookAttempt, disableAfter time.Duration) error {
	if len(as) == 0 {
		return nil
	}
	return s.Tx(ctx, func(tx *sqlx.Tx) error {
		recorded, err := s.recordAttemptsTx(ctx, tx, t, as)
		if err != nil {
			return err
		}
		var retries []jobs.Params
		for _, a := range recorded {
			if !a.OK && !a.RetryAt.IsZero() {
				retries = append(retries, webhookJob(t, WebhookDeliveryArgs{IDs: []string{a.DeliveryID}, Attempt: a.Attempt + 1}, a.RetryAt))
			}
		}
		if _, err := jobs.EnqueueMany(ctx, tx, retries); err != nil {
			return err
		}
		return s.trackEndpointFailures(ctx, tx, t, recorded, disableAfter)
	})
}

// recordAttemptsSQL writes a batch of attempts: a first attempt inserts
// its delivery's row (a rerun's second insert of it is dropped), a later
// one updates the row if it is still the next. Times travel as
// microseconds since the epoch (0 for none): cheaper to send than text.
const recordAttemptsSQL = `WITH a AS (
		SELECT a.*, timestamptz 'epoch' + a.at_us * interval '1 microsecond' AS at,
		       CASE WHEN a.retry_us > 0 THEN timestamptz 'epoch' + a.retry_us * interval '1 microsecond' END AS retry_at,
		       CASE WHEN a.ok THEN 'succeeded' WHEN a.retry_us > 0 THEN 'retrying' ELSE 'failed' END AS status
		  FROM unnest($1::uuid[], $2::bool[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::int[], $8::bigint[],
		              $9::int[], $10::int[], $11::text[], $12::text[], $13::bool[], $14::bigint[])
		       AS a(id, new, endpoint_id, seq, name, msg, attempt, at_us, status_code, latency_ms, error, response, ok, retry_us)
	), e AS (
		SELECT a.*, jsonb_build_object('attempt', a.attempt, 'at', a.at, 'status', nullif(a.status_code, 0), 'ms', a.latency_ms,
		       'error', nullif(a.error, ''), 'response', a.response) AS entry
		  FROM a
	), ins AS (
		INSERT INTO {tenant}.webhook_deliveries (id, endpoint_id, signal_seq, signal_name, message_id, status, attempts,
		       next_attempt_at, last_status, last_error, delivered_at, log)
		SELECT e.id, e.endpoint_id, e.seq, e.name, e.msg, e.status, e.attempt, e.retry_at, nullif(e.status_code, 0),
		       nullif(e.error, ''), CASE WHEN e.ok THEN e.at END, jsonb_build_array(e.entry)
		  FROM e WHERE e.new
		ON CONFLICT (id) DO NOTHING
		RETURNING id
	), upd AS (
		UPDATE {tenant}.webhook_deliveries d
		   SET status = e.status, attempts = e.attempt, next_attempt_at = e.retry_at, last_status = nullif(e.status_code, 0),
		       last_error = nullif(e.error, ''), delivered_at = CASE WHEN e.ok THEN e.at ELSE d.delivered_at END, updated_at = now(),
		       log = d.log || e.entry
		  FROM e WHERE NOT e.new AND d.id = e.id AND d.attempts = e.attempt - 1 AND d.status IN ('pending', 'retrying')
		RETURNING d.id
	)
	SELECT id::text FROM ins UNION ALL SELECT id::text FROM upd`

// recordAttemptsTx writes the attempts that are still their delivery's
// next and returns those.
func (s *Store) recordAttemptsTx(ctx context.Context, tx *sqlx.Tx, t Tenant, as []WebhookAttempt) ([]WebhookAttempt, error) {
	n := len(as)
	ids, news, endpoints := make([]string, n), make([]bool, n), make([]string, n)
	seqs, names, msgs := make([]int64, n), make([]string, n), make([]string, n)
	attempts, ats, codes, latencies := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	errs, responses, oks, retries := make([]string, n), make([]string, n), make([]bool, n), make([]int64, n)
	for i, a := range as {
		ids[i], news[i], endpoints[i], seqs[i], names[i], msgs[i] = a.DeliveryID, a.New, a.EndpointID, a.SignalSeq, a.SignalName, a.MessageID
		attempts[i], ats[i], codes[i], latencies[i] = int64(a.Attempt), a.At.UnixMicro(), int64(a.StatusCode), a.Latency.Milliseconds()
		errs[i], responses[i], oks[i] = a.Error, a.Response, a.OK
		if !a.OK && !a.RetryAt.IsZero() {
			retries[i] = a.RetryAt.UnixMicro()
		}
	}
	var done []string
	if err := s.selectPrepared(ctx, tx, &done, t.SQL(recordAttemptsSQL),
		pq.Array(ids), pq.Array(news), pq.Array(endpoints), pq.Array(seqs), pq.Array(names), pq.Array(msgs),
		pq.Array(attempts), pq.Array(ats), pq.Array(codes), pq.Array(latencies), pq.Array(errs), pq.Array(responses),
		pq.Array(oks), pq.Array(retries)); err != nil {
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
	// The common batch, successes to healthy endpoints, changes nothing:
	// not even the statement that finds so. (An endpoint's failure
	// recorded after a success's job read it healthy is cleared by the
	// next success, whose job reads it failing.)
	if !slices.ContainsFunc(as, func(a WebhookAttempt) bool { return !a.OK || !a.EndpointHealthy }) {
		return nil
	}
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
	var rows []struct {
		WebhookDelivery
		RawLog []byte `db:"log"`
	}
	q := `SELECT ` + webhookDeliveryColumns + `, d.log FROM {tenant}.webhook_deliveries d` + c.sql() + ` ORDER BY d.created_at DESC, d.id DESC` + c.limit(limit+1)
	if err := s.DB.SelectContext(ctx, &rows, t.SQL(q), c.args...); err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries: %w", err)
	}
	out = make([]WebhookDelivery, 0, len(rows))
	for _, r := range rows {
		var log []logEntry
		if err := json.Unmarshal(r.RawLog, &log); err != nil {
			return nil, "", fmt.Errorf("webhook delivery %s: its log: %w", r.ID, err)
		}
		d := r.WebhookDelivery
		for _, e := range log {
			d.Log = append(d.Log, e.row())
		}
		out = append(out, d)
	}
	if len(out) > limit {
		out, next = out[:limit], out[limit-1].ID
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
			// Queued before migration 0018: its first attempt is on its way.
			return Invalid("", "This delivery has not been attempted yet: it is on its way.")
		}
		if _, err := jobs.CancelByKey(ctx, tx, webhookJobKey(t, d.ID, d.Attempts+1)); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &d, t.SQL(`UPDATE {tenant}.webhook_deliveries d SET status = 'pending', next_attempt_at = now(), updated_at = now()
			WHERE d.id = $1 RETURNING `+webhookDeliveryColumns), id); err != nil {
			return fmt.Errorf("redeliver webhook: %w", err)
		}
		_, _, err = jobs.Enqueue(ctx, tx, webhookJob(t, WebhookDeliveryArgs{IDs: []string{d.ID}, Attempt: d.Attempts + 1}, time.Time{}))
		return err
	})
	return d, err
}
