package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/jobs"
)

// Signals are the tenant's append-only facts (SPEC §6). They are emitted
// inside the transaction of the change they describe, so a fact exists if
// and only if its change committed; after commit every instance hears of
// it on SignalNotifyChannel, and a fanout job delivers it to the handlers
// registered on a SignalBus.

// SignalNotifyChannel is the NOTIFY channel of new signals. The payload is
// "<schema>:<seq>" (see ParseSignalNotification). NOTIFY is transactional:
// listeners hear of a signal only once it has committed.
const SignalNotifyChannel = "fp_signals"

// SignalFanoutJob is the job kind that delivers one signal to its handlers.
const SignalFanoutJob = "signal.fanout"

// signalLockClass is the first key of the per-tenant advisory lock that
// serialises emits (see EmitSignal).
const signalLockClass = 0x46500002

var signalName = regexp.MustCompile(`^[a-z0-9_]+\.[a-z0-9_.]+$`)

// Actor is who (or what) caused a signal.
type Actor struct{ Type, ID string }

// Subject is what a signal or a directive is about.
type Subject struct{ Type, ID string }

// UserActor is a signed-in person.
func UserActor(userID int64) Actor { return Actor{Type: "user", ID: strconv.FormatInt(userID, 10)} }

// SystemActor is the platform itself (a worker, cron), named by part.
func SystemActor(part string) Actor { return Actor{Type: "system", ID: part} }

// Signal is one stored fact. Empty strings stand for NULL columns.
type Signal struct {
	// Seq orders a tenant's signals in commit order: a reader that has
	// seen seq N and asks for "after N" misses nothing (gaps may exist).
	Seq           int64           `db:"seq"`
	ID            string          `db:"id"`
	Name          string          `db:"name"`
	DedupeKey     string          `db:"dedupe_key"`
	Payload       json.RawMessage `db:"payload"`
	Metadata      json.RawMessage `db:"metadata"`
	OccurredAt    time.Time       `db:"occurred_at"`
	ActorType     string          `db:"actor_type"`
	ActorID       string          `db:"actor_id"`
	SubjectType   string          `db:"subject_type"`
	SubjectID     string          `db:"subject_id"`
	Source        string          `db:"source"`
	CorrelationID string          `db:"correlation_id"`
	CausationID   string          `db:"causation_id"`
}

// Actor returns who caused the signal.
func (s Signal) Actor() Actor { return Actor{s.ActorType, s.ActorID} }

// Subject returns what the signal is about.
func (s Signal) Subject() Subject { return Subject{s.SubjectType, s.SubjectID} }

// DecodePayload unmarshals the payload into v.
func (s Signal) DecodePayload(v any) error { return json.Unmarshal(s.Payload, v) }

// NewSignal is a signal to emit.
type NewSignal struct {
	Name string // e.g. "forum.thread.locked"; ^[a-z0-9_]+\.[a-z0-9_.]+$
	// DedupeKey makes the emit idempotent: a second emit with the same key
	// returns the first signal and triggers nothing.
	DedupeKey string
	Payload   any // marshalled to JSON; nil is {}
	Metadata  any // marshalled to JSON; nil is {}
	Actor     Actor
	Subject   Subject
	// Source names the part of the app that emitted it ("forums", "directives").
	Source        string
	CorrelationID string // a uuid tying related signals together (a directive's id), or ""
	CausationID   string // the uuid of the signal or directive that caused this one, or ""
	OccurredAt    time.Time
}

func (n NewSignal) validate() error {
	v := &ValidationError{}
	if !signalName.MatchString(n.Name) || len(n.Name) > 100 {
		v.Add("name", fmt.Sprintf("%q is not a signal name (lowercase dotted words, e.g. forum.thread.locked)", n.Name))
	}
	if n.Source == "" {
		v.Add("source", "can't be blank")
	}
	if (n.Actor.Type == "") != (n.Actor.ID == "") {
		v.Add("actor", "needs both a type and an id, or neither")
	}
	if (n.Subject.Type == "") != (n.Subject.ID == "") {
		v.Add("subject", "needs both a type and an id, or neither")
	}
	return v.OrNil()
}

func marshalJSON(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		return x, nil
	case []byte:
		return x, nil
	}
	return json.Marshal(v)
}

func nullIfEmpty(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// signalColumns reads a signals row into Signal, NULLs as "".
const signalColumns = `seq, id::text AS id, name, coalesce(dedupe_key, '') AS dedupe_key, payload, metadata, occurred_at,
	coalesce(actor_type, '') AS actor_type, coalesce(actor_id, '') AS actor_id,
	coalesce(subject_type, '') AS subject_type, coalesce(subject_id, '') AS subject_id, source,
	coalesce(correlation_id::text, '') AS correlation_id, coalesce(causation_id::text, '') AS causation_id`

// EmitSignal records sig in tx, the transaction of the change it
// describes. created is false when sig.DedupeKey matched an existing
// signal, which is returned instead; nothing else happens then. A new
// signal is announced on SignalNotifyChannel and gets a fanout job, both
// taking effect only when tx commits.
//
// Emits are serialised per tenant with a transaction-scoped advisory lock,
// held until tx ends. seq comes from an identity column, assigned when the
// row is inserted, not when it commits: without the lock, a transaction
// could take seq 7, another seq 8 and commit first, and a reader resuming
// "after 8" (an SSE client, a replay) would never see 7. With the lock,
// seqs become visible in order. The price is that one tenant's emitting
// transactions commit one at a time, so emit late in a transaction.
func (s *Store) EmitSignal(ctx context.Context, tx *sqlx.Tx, t Tenant, sig NewSignal) (Signal, bool, error) {
	if err := sig.validate(); err != nil {
		return Signal{}, false, fmt.Errorf("emit signal %s: %w", sig.Name, err)
	}
	payload, err := marshalJSON(sig.Payload)
	if err != nil {
		return Signal{}, false, fmt.Errorf("emit signal %s: payload: %w", sig.Name, err)
	}
	metadata, err := marshalJSON(sig.Metadata)
	if err != nil {
		return Signal{}, false, fmt.Errorf("emit signal %s: metadata: %w", sig.Name, err)
	}
	var out Signal
	err = s.getPrepared(ctx, tx, &out, `WITH src AS (SELECT 1)`+emitCTEs(t, "src", signalExprs{
		Name: "$1", DedupeKey: "$2", Payload: "$3", Metadata: "$4", OccurredAt: "coalesce($5, now())",
		ActorType: "$6", ActorID: "$7", SubjectType: "$8", SubjectID: "$9", Source: "$10",
		CorrelationID: "$11::uuid", CausationID: "$12::uuid",
	})+` SELECT `+signalColumns+` FROM emitted`,
		sig.Name, nullIfEmpty(sig.DedupeKey), payload, metadata, sql.NullTime{Time: sig.OccurredAt, Valid: !sig.OccurredAt.IsZero()},
		nullIfEmpty(sig.Actor.Type), nullIfEmpty(sig.Actor.ID), nullIfEmpty(sig.Subject.Type), nullIfEmpty(sig.Subject.ID),
		sig.Source, nullIfEmpty(sig.CorrelationID), nullIfEmpty(sig.CausationID))
	if errors.Is(err, sql.ErrNoRows) {
		// Dedupe hit. Under the tenant lock the first emitter has
		// committed (or rolled back, and then we would have inserted), so
		// this statement's snapshot sees its row.
		err := tx.GetContext(ctx, &out, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals WHERE dedupe_key = $1`), sig.DedupeKey)
		if err != nil {
			return Signal{}, false, fmt.Errorf("emit signal %s: read deduplicated signal: %w", sig.Name, err)
		}
		return out, false, nil
	} else if err != nil {
		return Signal{}, false, fmt.Errorf("emit signal %s: %w", sig.Name, err)
	}
	return out, true, nil
}

// signalExprs gives each column of a signal to emit as an SQL expression:
// a parameter of the caller's statement or a column of its source CTE.
type signalExprs struct {
	Name, DedupeKey, Payload, Metadata, OccurredAt string
	ActorType, ActorID, SubjectType, SubjectID     string
	Source, CorrelationID, CausationID             string
}

// emitCTEs is EmitSignal's work as CTEs to append to a statement's WITH
// list (it starts with a comma): for each row of the CTE named from (one,
// normally), the signal e describes. In order, as each reads the one
// before: the tenant's emit lock (so seq is drawn after it, see
// EmitSignal), the signals row ("signal"), its fanout job as fanoutJob
// describes it (the jobs table's statement trigger adds the fp_jobs
// NOTIFY), and "emitted", the new row with its fp_signals NOTIFY sent:
// the statement must read "emitted", or the NOTIFY is not sent. A dedupe
// hit inserts nothing, so neither job nor NOTIFY happens.
//
// A writer whose change and signal fit in one statement can run it on
// its own, outside a transaction: the change's row locks and the tenant
// lock are then held for that statement and its commit, with no round
// trip in between (see CreateForumReply). Take the change's locks in from
// (or before it), as every emitter does, so locks come in one order.
func emitCTEs(t Tenant, from string, e signalExprs) string {
	schema := pq.QuoteLiteral(t.Schema())
	return t.SQL(fmt.Sprintf(`,
		emit_lock AS (SELECT pg_advisory_xact_lock(%[1]d, hashtext(%[2]s)) FROM %[3]s LIMIT 1),
		signal AS (
			INSERT INTO {tenant}.signals (name, dedupe_key, payload, metadata, occurred_at, actor_type, actor_id,
			                              subject_type, subject_id, source, correlation_id, causation_id)
			SELECT %[4]s FROM %[3]s, emit_lock
			ON CONFLICT (dedupe_key) DO NOTHING
			RETURNING *),
		signal_job AS (
			INSERT INTO public.jobs (kind, tenant_schema, args, max_attempts, unique_key)
			SELECT %[5]s, %[2]s, jsonb_build_object('seq', signal.seq), %[6]d, 'signal:' || %[2]s || ':' || signal.seq FROM signal
			ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'running') DO NOTHING),
		emitted AS (
			SELECT signal.* FROM signal, LATERAL (SELECT pg_notify(%[7]s, %[2]s || ':' || signal.seq::text)) n)`,
		signalLockClass, schema, from,
		strings.Join([]string{e.Name, orNull(e.DedupeKey), e.Payload, e.Metadata, e.OccurredAt, orNull(e.ActorType), orNull(e.ActorID),
			orNull(e.SubjectType), orNull(e.SubjectID), e.Source, orNull(e.CorrelationID), orNull(e.CausationID)}, ", "),
		pq.QuoteLiteral(SignalFanoutJob), fanoutMaxAttempts, pq.QuoteLiteral(SignalNotifyChannel)))
}

func orNull(expr string) string {
	if expr == "" {
		return "NULL"
	}
	return expr
}

type fanoutArgs struct {
	Seq int64 `json:"seq"`
}

// fanoutMaxAttempts bounds a fanout job's retries.
const fanoutMaxAttempts = 10

// fanoutJob is the fanout job of a signal. EmitSignal writes the same job
// in SQL, inside its statement: keep the two alike.
func fanoutJob(schema string, seq int64) jobs.Params {
	return jobs.Params{
		Kind: SignalFanoutJob, Tenant: schema, Args: fanoutArgs{Seq: seq}, MaxAttempts: fanoutMaxAttempts,
		// A replay finds the job still queued and adds nothing.
		UniqueKey: fmt.Sprintf("signal:%s:%d", schema, seq),
	}
}

// ParseSignalNotification splits a SignalNotifyChannel payload.
func ParseSignalNotification(payload string) (schema string, seq int64, err error) {
	schema, n, ok := strings.Cut(payload, ":")
	if ok {
		seq, err = strconv.ParseInt(n, 10, 64)
	}
	if !ok || err != nil || !strings.HasPrefix(schema, "org_") {
		return "", 0, fmt.Errorf("bad signal notification %q", payload)
	}
	return schema, seq, nil
}

// TenantBySchema finds the tenant whose schema is schema (jobs carry the
// schema name): ErrNotFound when the organization is gone.
func (s *Store) TenantBySchema(ctx context.Context, schema string) (Tenant, error) {
	slug, ok := strings.CutPrefix(schema, "org_")
	if !ok {
		return Tenant{}, fmt.Errorf("tenant schema %q: %w", schema, ErrNotFound)
	}
	var t Tenant
	err := s.DB.QueryRowxContext(ctx, `SELECT id, slug FROM organizations WHERE slug = $1`, slug).Scan(&t.OrgID, &t.Slug)
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, fmt.Errorf("tenant schema %q: %w", schema, ErrNotFound)
	}
	return t, err
}

// ---- reading ----

// SignalBySeq returns one signal.
func (s *Store) SignalBySeq(ctx context.Context, t Tenant, seq int64) (Signal, error) {
	var sig Signal
	err := s.DB.GetContext(ctx, &sig, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals WHERE seq = $1`), seq)
	if errors.Is(err, sql.ErrNoRows) {
		return sig, ErrNotFound
	} else if err != nil {
		return sig, fmt.Errorf("read signal %d: %w", seq, err)
	}
	return sig, nil
}

// SignalsAfter returns up to limit signals with seq > after, oldest first:
// what a live stream resuming from Last-Event-ID must send.
func (s *Store) SignalsAfter(ctx context.Context, t Tenant, after int64, limit int) ([]Signal, error) {
	var out []Signal
	err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals WHERE seq > $1 ORDER BY seq LIMIT $2`),
		after, clampLimit(limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("read signals after %d: %w", after, err)
	}
	return out, nil
}

// LatestSignals returns the n most recent signals, newest first.
func (s *Store) LatestSignals(ctx context.Context, t Tenant, n int) ([]Signal, error) {
	var out []Signal
	err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals ORDER BY seq DESC LIMIT $1`), clampLimit(n, 1000))
	if err != nil {
		return nil, fmt.Errorf("read latest signals: %w", err)
	}
	return out, nil
}

// SignalsBySubjects returns the signals about any of subjects, oldest
// first, up to limit: an audit trail (a thread and its posts) read by
// query rather than from a recent-N window.
func (s *Store) SignalsBySubjects(ctx context.Context, t Tenant, subjects []Subject, limit int) ([]Signal, error) {
	if len(subjects) == 0 {
		return nil, nil
	}
	types, ids := splitSubjects(subjects)
	var out []Signal
	err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals
		WHERE (subject_type, subject_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
		ORDER BY seq LIMIT $3`), pq.Array(types), pq.Array(ids), clampLimit(limit, 5000))
	if err != nil {
		return nil, fmt.Errorf("read signals by subject: %w", err)
	}
	return out, nil
}

func splitSubjects(subjects []Subject) (types, ids []string) {
	for _, sub := range subjects {
		types = append(types, sub.Type)
		ids = append(ids, sub.ID)
	}
	return types, ids
}

// SignalFilter selects signals for ListSignals; empty fields do not filter.
type SignalFilter struct {
	// Name is an exact name, or a prefix pattern ending in ".*" ("forum.*").
	Name string
	// SubjectType and SubjectID narrow to what happened to one thing
	// (a thread, a user, a package) — the admin's question.
	SubjectType, SubjectID string
	Since, Until           time.Time // occurred_at in [Since, Until)
	// Before is the cursor: only signals with a smaller seq. Use the
	// previous page's Next.
	Before int64
	Limit  int // default 50, at most 500
}

// SignalPage is one page of signals, newest first. Next is the cursor of
// the following page, 0 when this is the last.
type SignalPage struct {
	Signals []Signal
	Next    int64
}

// ListSignals pages through a tenant's signals, newest first.
func (s *Store) ListSignals(ctx context.Context, t Tenant, f SignalFilter) (SignalPage, error) {
	limit := clampLimit(f.Limit, 500)
	c := signalConds(f.Name, f.Since, f.Until)
	c.eq("subject_type", f.SubjectType)
	c.eq("subject_id", f.SubjectID)
	if f.Before > 0 {
		c.add("seq < ?", f.Before)
	}
	q := `SELECT ` + signalColumns + ` FROM {tenant}.signals` + c.sql() + ` ORDER BY seq DESC` + c.limit(limit+1)
	var page SignalPage
	if err := s.DB.SelectContext(ctx, &page.Signals, t.SQL(q), c.args...); err != nil {
		return page, fmt.Errorf("list signals: %w", err)
	}
	if len(page.Signals) > limit {
		page.Signals = page.Signals[:limit]
		page.Next = page.Signals[limit-1].Seq
	}
	return page, nil
}

// signalConds starts the conditions shared by listing and replay: the
// name (exact, or a prefix pattern ending in ".*") and occurred_at in
// [since, until).
func signalConds(name string, since, until time.Time) conds {
	var c conds
	if prefix, ok := strings.CutSuffix(name, ".*"); ok {
		c.add("name LIKE ?", likeEscape(prefix)+".%")
	} else {
		c.eq("name", name)
	}
	if !since.IsZero() {
		c.add("occurred_at >= ?", since)
	}
	if !until.IsZero() {
		c.add("occurred_at < ?", until)
	}
	return c
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func clampLimit(n, max int) int {
	if n <= 0 {
		return 50
	}
	return min(n, max)
}

// ---- fanout ----

// SignalHandlerFunc reacts to a signal. It runs in tx, the transaction
// that records the delivery: its database effects and the delivery commit
// together, so they happen once even though a signal may be handed over
// more than once. An error rolls both back and the delivery is retried.
type SignalHandlerFunc func(ctx context.Context, tx *sqlx.Tx, t Tenant, sig Signal) error

type signalHandler struct {
	name, pattern string
	fn            SignalHandlerFunc
}

// SignalBus holds the signal handlers registered in code and delivers
// signals to them through the job runner.
type SignalBus struct {
	store    *Store
	log      *slog.Logger
	mu       sync.RWMutex
	handlers []signalHandler
}

// NewSignalBus makes a bus with no handlers.
func NewSignalBus(s *Store, log *slog.Logger) *SignalBus {
	if log == nil {
		log = slog.Default()
	}
	return &SignalBus{store: s, log: log.With("component", "signals")}
}

// Handle registers fn under a unique name (recorded in
// signal_deliveries) for signals whose name matches pattern, a path.Match
// pattern: "forum.thread.locked", "forum.*", "*". Registration errors are
// wiring mistakes and panic at boot.
func (b *SignalBus) Handle(name, pattern string, fn SignalHandlerFunc) {
	if _, err := path.Match(pattern, ""); err != nil || name == "" {
		panic(fmt.Sprintf("signals: handler %q: bad pattern %q", name, pattern))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range b.handlers {
		if h.name == name {
			panic("signals: two handlers named " + name)
		}
	}
	b.handlers = append(b.handlers, signalHandler{name: name, pattern: pattern, fn: fn})
}

// matching returns the handlers for a signal name.
func (b *SignalBus) matching(signal string) []signalHandler {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []signalHandler
	for _, h := range b.handlers {
		if ok, _ := path.Match(h.pattern, signal); ok {
			out = append(out, h)
		}
	}
	return out
}

// RegisterJobs registers the fanout and replay job kinds on a runner.
func (b *SignalBus) RegisterJobs(r *jobs.Runner) {
	r.Handle(SignalFanoutJob, b.fanout)
	r.Handle(jobs.KindReplaySignals, b.replayJob)
}

// fanout delivers one signal to every matching handler that has not had
// it yet, each in its own transaction, so one failing handler neither
// blocks nor repeats the others. Any failure fails the job, which retries
// only the handlers still undelivered.
func (b *SignalBus) fanout(ctx context.Context, j *jobs.Job) error {
	var args fanoutArgs
	if err := j.DecodeArgs(&args); err != nil {
		return jobs.Permanent(err)
	}
	t, err := b.store.TenantBySchema(ctx, j.Tenant)
	if errors.Is(err, ErrNotFound) {
		return jobs.Permanent(err)
	} else if err != nil {
		return err
	}
	sig, err := b.store.SignalBySeq(ctx, t, args.Seq)
	if errors.Is(err, ErrNotFound) {
		return jobs.Permanent(fmt.Errorf("signal %d of %s: %w", args.Seq, j.Tenant, err))
	} else if err != nil {
		return err
	}
	var errs []error
	for _, h := range b.matching(sig.Name) {
		if err := b.deliver(ctx, t, sig, h); err != nil {
			errs = append(errs, fmt.Errorf("handler %s: %w", h.name, err))
		}
	}
	return errors.Join(errs...)
}

func (b *SignalBus) deliver(ctx context.Context, t Tenant, sig Signal, h signalHandler) error {
	return b.store.Tx(ctx, func(tx *sqlx.Tx) error {
		// Claim the delivery first: a concurrent delivery of the same
		// signal waits on this row and then finds it done.
		res, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.signal_deliveries (signal_seq, handler) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`), sig.Seq, h.name)
		if err != nil {
			return fmt.Errorf("record delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // delivered before
		}
		return h.fn(ctx, tx, t, sig)
	})
}

// ReplayFilter selects the signals to replay; empty fields do not filter.
type ReplayFilter struct {
	// Tenant limits the replay to one organization; nil means all.
	Tenant *Tenant
	// Name is an exact signal name or a prefix pattern ending in ".*".
	Name         string
	Since, Until time.Time // occurred_at in [Since, Until)
	FromSeq      int64     // seq >= FromSeq
	ToSeq        int64     // seq <= ToSeq (0: no bound)
	// Force re-delivers to handlers that already had the signal (an
	// admin's explicit replay); otherwise only missing deliveries are made.
	Force bool
}

// ReplayReport says what a replay did.
type ReplayReport struct {
	Tenants  int // tenants scanned
	Signals  int // signals matching the filter
	Enqueued int // fanout jobs enqueued (signals with an undelivered handler and no job queued)
}

// Replay enqueues a fanout job for every selected signal that a matching
// handler has not received. Signals whose fanout job is still queued or
// running are left to it. Cron runs it over a recent window; the
// `fleetprompt replay` command and the admin page run it with a filter.
func (b *SignalBus) Replay(ctx context.Context, f ReplayFilter) (ReplayReport, error) {
	var rep ReplayReport
	var tenants []Tenant
	if f.Tenant != nil {
		tenants = []Tenant{*f.Tenant}
	} else {
		rows, err := b.store.DB.QueryContext(ctx, `SELECT id, slug FROM organizations ORDER BY id`)
		if err != nil {
			return rep, fmt.Errorf("replay: list tenants: %w", err)
		}
		for rows.Next() {
			var t Tenant
			if err := rows.Scan(&t.OrgID, &t.Slug); err != nil {
				rows.Close()
				return rep, err
			}
			tenants = append(tenants, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return rep, fmt.Errorf("replay: list tenants: %w", err)
		}
	}
	// A forced replay's jobs get their own unique keys: the signal's own
	// fanout job may still be live after its deliveries (the runner
	// records completions after the fact), and a job with the same key
	// would be skipped, leaving the deliveries forgotten below undone.
	forced := ""
	if f.Force {
		forced = fmt.Sprintf(":forced:%d", time.Now().UnixNano())
	}
	for _, t := range tenants {
		rep.Tenants++
		if err := b.replayTenant(ctx, t, f, forced, &rep); err != nil {
			return rep, fmt.Errorf("replay %s: %w", t.Schema(), err)
		}
	}
	return rep, nil
}

const replayPage = 1000

func (b *SignalBus) replayTenant(ctx context.Context, t Tenant, f ReplayFilter, forcedKey string, rep *ReplayReport) error {
	c := signalConds(f.Name, f.Since, f.Until)
	if f.ToSeq > 0 {
		c.add("s.seq <= ?", f.ToSeq)
	}
	c.add("s.seq > ?", int64(0)) // the page cursor, last
	cursor := len(c.args)
	args := c.args
	q := t.SQL(`SELECT s.seq, s.name, coalesce(array_agg(d.handler) FILTER (WHERE d.handler IS NOT NULL), '{}') AS delivered
		FROM {tenant}.signals s LEFT JOIN {tenant}.signal_deliveries d ON d.signal_seq = s.seq` + c.sql() + fmt.Sprintf(`
		GROUP BY s.seq ORDER BY s.seq LIMIT %d`, replayPage))
	after := max(f.FromSeq-1, 0)
	for {
		args[cursor-1] = after
		type row struct {
			Seq       int64          `db:"seq"`
			Name      string         `db:"name"`
			Delivered pq.StringArray `db:"delivered"`
		}
		var rows []row
		if err := b.store.DB.SelectContext(ctx, &rows, q, args...); err != nil {
			return fmt.Errorf("find undelivered signals: %w", err)
		}
		var ps []jobs.Params
		var forced []int64
		for _, r := range rows {
			rep.Signals++
			after = r.Seq
			missing := false
			for _, h := range b.matching(r.Name) {
				if f.Force || !contains(r.Delivered, h.name) {
					missing = true
				}
			}
			if missing {
				p := fanoutJob(t.Schema(), r.Seq)
				p.UniqueKey += forcedKey
				ps = append(ps, p)
				if f.Force {
					forced = append(forced, r.Seq)
				}
			}
		}
		if len(ps) > 0 {
			err := b.store.Tx(ctx, func(tx *sqlx.Tx) error {
				if len(forced) > 0 {
					if _, err := tx.ExecContext(ctx, t.SQL(`DELETE FROM {tenant}.signal_deliveries WHERE signal_seq = ANY($1)`), pq.Array(forced)); err != nil {
						return fmt.Errorf("forget deliveries: %w", err)
					}
				}
				ids, err := jobs.EnqueueMany(ctx, tx, ps)
				rep.Enqueued += len(ids)
				return err
			})
			if err != nil {
				return err
			}
		}
		if len(rows) < replayPage {
			return nil
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// replayJob is cron's scheduled replay over a recent window.
func (b *SignalBus) replayJob(ctx context.Context, j *jobs.Job) error {
	var args jobs.ReplayArgs
	if err := j.DecodeArgs(&args); err != nil {
		return jobs.Permanent(err)
	}
	window, err := time.ParseDuration(args.Window)
	if err != nil || window <= 0 {
		window = 24 * time.Hour
	}
	rep, err := b.Replay(ctx, ReplayFilter{Since: time.Now().Add(-window)})
	if err != nil {
		return err
	}
	b.log.Info("replayed undelivered signals", "window", window, "tenants", rep.Tenants, "signals", rep.Signals, "enqueued", rep.Enqueued)
	return nil
}

// LatestSignalSeq is the tenant's latest signal seq. A live page embeds the
// seq it was rendered at so its event stream resumes from there: read it
// before the page's data, so an event racing the render is at worst sent
// again (and skipped by element id), never lost.
func (s *Store) LatestSignalSeq(ctx context.Context, t Tenant) (int64, error) {
	var seq int64
	err := s.DB.GetContext(ctx, &seq, t.SQL(`SELECT coalesce(max(seq), 0) FROM {tenant}.signals`))
	if err != nil {
		return 0, fmt.Errorf("read latest signal seq: %w", err)
	}
	return seq, nil
}
