package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Signals are the tenant's append-only facts (SPEC §6). They are emitted
// inside the transaction of the change they describe, so a fact exists if
// and only if its change committed; after commit every instance hears of
// it on SignalNotifyChannel. Emitting costs the row and that NOTIFY, no
// more: the subscribers that react to signals (jobs/signal) read the log
// from their own cursors (signal_cursors.go), woken by the NOTIFY only for
// the names they want.

// SignalNotifyChannel is the NOTIFY channel of new signals. The payload is
// "<schema>:<seq>:<name>" (see ParseSignalNotice). NOTIFY is
// transactional: listeners hear of a signal only once it has committed.
const SignalNotifyChannel = "fp_signals"

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
	b, err := json.Marshal(v)
	if string(b) == "null" {
		// A typed nil (a nil map) is no payload, as nil is.
		return []byte("{}"), err
	}
	return b, err
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
// signal is announced on SignalNotifyChannel when tx commits.
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
	// Order, when several rows emit, is the ORDER BY of from's rows: the
	// order their seqs are drawn in.
	Order string
}

// emitCTEs is EmitSignal's work as CTEs to append to a statement's WITH
// list (it starts with a comma): for each row of the CTE named from (one,
// normally), the signal e describes. In order, as each reads the one
// before: the tenant's emit lock (so seq is drawn after it, see
// EmitSignal), the signals row ("signal"), and "emitted", the new row with
// its fp_signals NOTIFY sent: the statement must read "emitted", or the
// NOTIFY is not sent. A dedupe hit inserts nothing, so no NOTIFY happens.
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
			SELECT %[4]s FROM %[3]s, emit_lock%[6]s
			ON CONFLICT (dedupe_key) DO NOTHING
			RETURNING *),
		emitted AS (
			SELECT signal.* FROM signal, LATERAL (SELECT pg_notify(%[5]s, %[2]s || ':' || signal.seq::text || ':' || signal.name)) n)`,
		signalLockClass, schema, from,
		strings.Join([]string{e.Name, orNull(e.DedupeKey), e.Payload, e.Metadata, e.OccurredAt, orNull(e.ActorType), orNull(e.ActorID),
			orNull(e.SubjectType), orNull(e.SubjectID), e.Source, orNull(e.CorrelationID), orNull(e.CausationID)}, ", "),
		pq.QuoteLiteral(SignalNotifyChannel), orderBy(e.Order)))
}

func orderBy(expr string) string {
	if expr == "" {
		return ""
	}
	return " ORDER BY " + expr
}

func orNull(expr string) string {
	if expr == "" {
		return "NULL"
	}
	return expr
}

// SignalNotice is what a SignalNotifyChannel notification says.
type SignalNotice struct {
	Schema string
	Seq    int64
	Name   string
}

// ParseSignalNotice splits a SignalNotifyChannel payload
// "<schema>:<seq>:<name>" (the name may be missing from older senders).
func ParseSignalNotice(payload string) (SignalNotice, error) {
	schema, rest, ok := strings.Cut(payload, ":")
	n, name, _ := strings.Cut(rest, ":")
	seq, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || !strings.HasPrefix(schema, "org_") {
		return SignalNotice{}, fmt.Errorf("bad signal notification %q", payload)
	}
	return SignalNotice{Schema: schema, Seq: seq, Name: name}, nil
}

// ParseSignalNotification splits a SignalNotifyChannel payload into the
// tenant schema and the seq.
func ParseSignalNotification(payload string) (schema string, seq int64, err error) {
	n, err := ParseSignalNotice(payload)
	return n.Schema, n.Seq, err
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

func likeEscape(s string) string { return likeEscaper.Replace(s) }

// likeEscaper is built once: a delivery escapes its subscriber's patterns
// on every claim.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func clampLimit(n, max int) int {
	if n <= 0 {
		return 50
	}
	return min(n, max)
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
