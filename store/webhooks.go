package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Webhook endpoints (SPEC §15): URLs an organization's signals are POSTed
// to, chosen by signal name patterns, signed per Standard Webhooks with a
// secret shown once. This file is the endpoints' SQL; the deliveries' is
// webhook_deliveries.go; sending is jobs/webhook's.

// SubjectWebhookEndpoint is the subject type of webhook.endpoint.* signals.
const SubjectWebhookEndpoint = "webhook_endpoint"

// SignalWebhookTest is the test event: delivered to the endpoint it is
// about, and to no other, whatever their patterns.
const SignalWebhookTest = "webhook.endpoint.tested"

// WebhookSecretPrefix starts every signing secret (Standard Webhooks).
const WebhookSecretPrefix = "whsec_"

// WebhookRotationOverlap is how long a rotated-out secret still signs.
const WebhookRotationOverlap = 24 * time.Hour

// WebhookEndpoint is one endpoint with its signing secrets.
type WebhookEndpoint struct {
	ID                string         `db:"id"`
	URL               string         `db:"url"`
	Description       string         `db:"description"`
	Events            pq.StringArray `db:"events"`
	Secret            string         `db:"secret"`
	PreviousSecret    sql.NullString `db:"previous_secret"`
	PreviousExpiresAt sql.NullTime   `db:"previous_expires_at"`
	Enabled           bool           `db:"enabled"`
	DisabledReason    sql.NullString `db:"disabled_reason"`
	FailingSince      sql.NullTime   `db:"failing_since"`
	FromSeq           int64          `db:"from_seq"`
	CreatedAt         time.Time      `db:"created_at"`
	UpdatedAt         time.Time      `db:"updated_at"`
}

// Secrets are the secrets that sign a message sent at now: the current
// one, and the previous one while its overlap lasts.
func (e WebhookEndpoint) Secrets(now time.Time) []string {
	out := []string{e.Secret}
	if e.PreviousSecret.Valid && e.PreviousExpiresAt.Valid && now.Before(e.PreviousExpiresAt.Time) {
		out = append(out, e.PreviousSecret.String)
	}
	return out
}

// Wants reports whether the endpoint gets sig: one of its patterns
// matches, and it happened since the endpoint was made.
func (e WebhookEndpoint) Wants(sig Signal) bool {
	if sig.Seq < e.FromSeq {
		return false
	}
	if sig.Name == SignalWebhookTest {
		return sig.SubjectType == SubjectWebhookEndpoint && sig.SubjectID == e.ID
	}
	return MatchesAny(e.Events, sig.Name)
}

const webhookEndpointColumns = `id::text AS id, url, description, events, secret, previous_secret, previous_expires_at,
	enabled, disabled_reason, failing_since, from_seq, created_at, updated_at`

// NewWebhookSecret is whsec_ and the standard base64 of 24 random bytes.
func NewWebhookSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// NewWebhookEndpoint is the endpoint form. URL must have passed the
// sender's check (scheme, and where it resolves) before it gets here.
type NewWebhookEndpoint struct {
	URL         string
	Events      []string
	Description string
}

// ParseSignalPatterns splits a form's events field (commas, spaces or
// lines between patterns).
func ParseSignalPatterns(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (n NewWebhookEndpoint) validate() error {
	v := &ValidationError{}
	if n.URL == "" {
		v.Add("url", "can't be blank")
	} else if len(n.URL) > 2000 {
		v.Add("url", "is too long: at most 2,000 characters")
	}
	if len(n.Events) > 50 {
		v.Add("events", "at most 50 patterns")
	} else if err := CheckSignalPatterns("events", n.Events); err != nil {
		var ve *ValidationError
		errors.As(err, &ve)
		v.Add("events", ve.Fields["events"])
	}
	if utf8.RuneCountInString(n.Description) > 300 {
		v.Add("description", "is too long: at most 300 characters")
	}
	return v.OrNil()
}

// CreateWebhookEndpoint adds an endpoint, enabled, with its first secret
// (returned in the endpoint: show it once) and webhook.endpoint.created.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, t Tenant, actorUserID int64, n NewWebhookEndpoint) (e WebhookEndpoint, err error) {
	n.Description = strings.TrimSpace(n.Description)
	if err := n.validate(); err != nil {
		return e, err
	}
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &e, t.SQL(`INSERT INTO {tenant}.webhook_endpoints (url, description, events, secret, created_by_user_id)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+webhookEndpointColumns),
			n.URL, n.Description, pq.StringArray(n.Events), NewWebhookSecret(), nullUser(actorUserID)); err != nil {
			return fmt.Errorf("insert webhook endpoint: %w", err)
		}
		sig, err := s.emitWebhookEndpoint(ctx, tx, t, UserActor(actorUserID), "webhook.endpoint.created", e, nil)
		if err != nil {
			return err
		}
		// Under the tenant's emit lock, every signal below this seq has
		// committed: the endpoint gets this one and what follows.
		e.FromSeq = sig.Seq
		_, err = tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.webhook_endpoints SET from_seq = $2 WHERE id = $1`), e.ID, sig.Seq)
		return err
	})
	return e, err
}

// emitWebhookEndpoint emits a webhook.endpoint.* signal in tx; secrets
// are never in it.
func (s *Store) emitWebhookEndpoint(ctx context.Context, tx *sqlx.Tx, t Tenant, actor Actor, name string, e WebhookEndpoint, extra map[string]any) (Signal, error) {
	payload := map[string]any{"endpoint_id": e.ID, "url": e.URL, "events": []string(e.Events)}
	for k, v := range extra {
		payload[k] = v
	}
	sig, _, err := s.EmitSignal(ctx, tx, t, NewSignal{Name: name, Actor: actor, Payload: payload,
		Subject: Subject{Type: SubjectWebhookEndpoint, ID: e.ID}, Source: "webhooks"})
	return sig, err
}

// WebhookEndpoints lists the organization's endpoints, oldest first.
func (s *Store) WebhookEndpoints(ctx context.Context, t Tenant) ([]WebhookEndpoint, error) {
	var out []WebhookEndpoint
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+webhookEndpointColumns+` FROM {tenant}.webhook_endpoints
		ORDER BY created_at, id LIMIT 500`)); err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return out, nil
}

// WebhookEndpointByID finds one endpoint; a malformed or foreign id is
// ErrNotFound.
func (s *Store) WebhookEndpointByID(ctx context.Context, t Tenant, id string) (WebhookEndpoint, error) {
	return webhookEndpoint(ctx, s.DB, t, id, "")
}

func webhookEndpoint(ctx context.Context, q sqlx.QueryerContext, t Tenant, id, lock string) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	if !IsUUID(id) {
		return e, ErrNotFound
	}
	err := sqlx.GetContext(ctx, q, &e, t.SQL(`SELECT `+webhookEndpointColumns+` FROM {tenant}.webhook_endpoints WHERE id = $1 `+lock), id)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	} else if err != nil {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// RotateWebhookSecret gives the endpoint a new secret (returned in the
// endpoint: show it once); the old one keeps signing, beside it, for
// WebhookRotationOverlap, so receivers can switch without losing a message.
func (s *Store) RotateWebhookSecret(ctx context.Context, t Tenant, actorUserID int64, id string) (e WebhookEndpoint, err error) {
	if !IsUUID(id) {
		return e, ErrNotFound
	}
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &e, t.SQL(`UPDATE {tenant}.webhook_endpoints
			SET previous_secret = secret, previous_expires_at = now() + $2 * interval '1 second', secret = $3, updated_at = now()
			WHERE id = $1 RETURNING `+webhookEndpointColumns), id, int64(WebhookRotationOverlap/time.Second), NewWebhookSecret())
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		_, err = s.emitWebhookEndpoint(ctx, tx, t, UserActor(actorUserID), "webhook.endpoint.rotated", e,
			map[string]any{"previous_expires_at": e.PreviousExpiresAt.Time})
		return err
	})
	return e, err
}

// SetWebhookEnabled enables or disables an endpoint by hand, with
// webhook.endpoint.enabled or .disabled. Enabling starts its run of
// failures afresh. Setting what is already set changes nothing.
func (s *Store) SetWebhookEnabled(ctx context.Context, t Tenant, actorUserID int64, id string, enabled bool) (e WebhookEndpoint, err error) {
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := webhookEndpoint(ctx, tx, t, id, "FOR UPDATE")
		if err != nil || cur.Enabled == enabled {
			e = cur
			return err
		}
		reason := sql.NullString{String: "disabled by hand", Valid: !enabled}
		if err := tx.GetContext(ctx, &e, t.SQL(`UPDATE {tenant}.webhook_endpoints
			SET enabled = $2, disabled_reason = $3, failing_since = NULL, updated_at = now()
			WHERE id = $1 RETURNING `+webhookEndpointColumns), id, enabled, reason); err != nil {
			return fmt.Errorf("set webhook endpoint enabled: %w", err)
		}
		name, extra := "webhook.endpoint.enabled", map[string]any(nil)
		if !enabled {
			name, extra = "webhook.endpoint.disabled", map[string]any{"reason": reason.String}
		}
		_, err = s.emitWebhookEndpoint(ctx, tx, t, UserActor(actorUserID), name, e, extra)
		return err
	})
	return e, err
}

// TestWebhookEndpoint emits the test event about the endpoint; the
// webhook subscriber delivers it to that endpoint alone, like any signal.
func (s *Store) TestWebhookEndpoint(ctx context.Context, t Tenant, actorUserID int64, id string) (sig Signal, err error) {
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		e, err := webhookEndpoint(ctx, tx, t, id, "FOR SHARE")
		if err != nil {
			return err
		}
		if !e.Enabled {
			return Invalid("", "This endpoint is disabled: enable it to send it a test event.")
		}
		sig, _, err = s.EmitSignal(ctx, tx, t, NewSignal{Name: SignalWebhookTest, Actor: UserActor(actorUserID),
			Subject: Subject{Type: SubjectWebhookEndpoint, ID: e.ID}, Source: "webhooks",
			Payload: map[string]any{"endpoint_id": e.ID, "message": "A test event from FleetPrompt."}})
		return err
	})
	return sig, err
}

// EnabledWebhookEndpointsTx lists the endpoints that take deliveries, in
// the webhook subscriber's transaction: only what choosing them reads (id,
// events, from_seq), as it runs for every batch of signals.
func (s *Store) EnabledWebhookEndpointsTx(ctx context.Context, tx *sqlx.Tx, t Tenant) ([]WebhookEndpoint, error) {
	out := make([]WebhookEndpoint, 0, 16)
	err := s.scanEndpoints(ctx, tx, t.SQL(`SELECT id::text, events, from_seq FROM {tenant}.webhook_endpoints WHERE enabled`), nil,
		func(e *WebhookEndpoint) []any {
			e.Enabled = true
			return []any{&e.ID, &e.Events, &e.FromSeq}
		}, &out)
	if err != nil {
		return nil, fmt.Errorf("list enabled webhook endpoints: %w", err)
	}
	return out, nil
}

// scanEndpoints runs q (prepared, in tx when it is not nil) and appends a
// row per endpoint to out, scanned into the fields fields names. The
// delivery path reads a hundred endpoints per signal twice (to choose
// them, to send): scanned by reflection into a growing slice of whole
// endpoints, that was most of its allocation.
func (s *Store) scanEndpoints(ctx context.Context, tx *sqlx.Tx, q string, args []any, fields func(*WebhookEndpoint) []any, out *[]WebhookEndpoint) error {
	var rows *sql.Rows
	var err error
	switch st := s.prepared(ctx, q); {
	case st == nil && tx == nil:
		rows, err = s.DB.QueryContext(ctx, q, args...)
	case st == nil:
		rows, err = tx.QueryContext(ctx, q, args...)
	case tx == nil:
		rows, err = st.QueryContext(ctx, args...)
	default:
		rows, err = tx.StmtxContext(ctx, st).QueryContext(ctx, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		*out = append(*out, WebhookEndpoint{})
		if err := rows.Scan(fields(&(*out)[len(*out)-1])...); err != nil {
			return err
		}
	}
	return rows.Err()
}
