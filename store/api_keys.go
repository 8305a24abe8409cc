package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// API keys (SPEC §15) let an organization's other systems use the JSON
// API. A key acts for the owner or admin who made it, within its scope:
// read keys only read; write keys also write, with their maker's role. The
// key is shown once; the database keeps its SHA-256, so a stolen dump
// authenticates nothing. Keys live in the public schema because the
// tenant is learned from the key alone.

// API key scopes.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// APIKeyPrefix starts every key, so a leaked one is recognisable (secret
// scanners, logs).
const APIKeyPrefix = "fp_"

// SubjectAPIKey is the subject type of api_key.* signals.
const SubjectAPIKey = "api_key"

// APIKey is a key as the admin page lists it (never the key itself).
type APIKey struct {
	ID              string       `db:"id"`
	Name            string       `db:"name"`
	Scope           string       `db:"scope"`
	Prefix          string       `db:"prefix"`
	CreatedByUserID int64        `db:"created_by_user_id"`
	CreatedByName   string       `db:"created_by_name"`
	CreatedAt       time.Time    `db:"created_at"`
	LastUsedAt      sql.NullTime `db:"last_used_at"`
	RevokedAt       sql.NullTime `db:"revoked_at"`
}

// Revoked reports whether the key no longer authenticates.
func (k APIKey) Revoked() bool { return k.RevokedAt.Valid }

const apiKeyColumns = `k.id::text AS id, k.name, k.scope, k.prefix, k.created_by_user_id,
	coalesce(u.name, '') AS created_by_name, k.created_at, k.last_used_at, k.revoked_at`

// HashAPIKey is what the database keeps of a key.
func HashAPIKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// newAPIKeySecret is fp_ and 43 URL-safe characters (32 random bytes).
func newAPIKeySecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// CreateAPIKey makes a key for the organization, made by actorUserID (an
// owner or admin: the handler checks), with api_key.created. key is the
// only copy of the key there will ever be.
func (s *Store) CreateAPIKey(ctx context.Context, t Tenant, actorUserID int64, name, scope string) (k APIKey, key string, err error) {
	name = strings.TrimSpace(name)
	v := &ValidationError{}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		v.Add("name", "can't be blank (say what the key is for, e.g. \"CI deploys\")")
	case n > 100:
		v.Add("name", "is too long: at most 100 characters")
	}
	if scope != ScopeRead && scope != ScopeWrite {
		v.Add("scope", "choose read or write")
	}
	if err := v.OrNil(); err != nil {
		return k, "", err
	}
	key = newAPIKeySecret()
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &k, `WITH k AS (
				INSERT INTO api_keys (organization_id, name, scope, key_hash, prefix, created_by_user_id)
				VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)
			SELECT `+apiKeyColumns+` FROM k LEFT JOIN users u ON u.id = k.created_by_user_id`,
			t.OrgID, name, scope, HashAPIKey(key), key[:len(APIKeyPrefix)+6], actorUserID)
		if err != nil {
			return fmt.Errorf("insert api key: %w", err)
		}
		return s.emitAPIKey(ctx, tx, t, actorUserID, "api_key.created", k)
	})
	return k, key, err
}

func (s *Store) emitAPIKey(ctx context.Context, tx *sqlx.Tx, t Tenant, actorUserID int64, name string, k APIKey) error {
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{Name: name, Actor: UserActor(actorUserID),
		Subject: Subject{Type: SubjectAPIKey, ID: k.ID}, Source: "api",
		Payload: map[string]any{"api_key_id": k.ID, "name": k.Name, "scope": k.Scope, "prefix": k.Prefix}})
	return err
}

// APIKeys lists the organization's keys, newest first, revoked ones too.
func (s *Store) APIKeys(ctx context.Context, t Tenant) ([]APIKey, error) {
	var out []APIKey
	err := s.DB.SelectContext(ctx, &out, `SELECT `+apiKeyColumns+` FROM api_keys k LEFT JOIN users u ON u.id = k.created_by_user_id
		WHERE k.organization_id = $1 ORDER BY k.created_at DESC, k.id LIMIT 500`, t.OrgID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey revokes one of the organization's keys, with
// api_key.revoked. From its commit on, the key authenticates nothing in
// any process: nothing caches it (see AuthenticateAPIKey). Revoking a
// revoked key changes nothing; another organization's key is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, t Tenant, actorUserID int64, id string) (k APIKey, err error) {
	if !IsUUID(id) {
		return k, ErrNotFound
	}
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &k, `WITH k AS (
				UPDATE api_keys SET revoked_at = now(), revoked_by_user_id = $3
				WHERE id = $1 AND organization_id = $2 AND revoked_at IS NULL RETURNING *)
			SELECT `+apiKeyColumns+` FROM k LEFT JOIN users u ON u.id = k.created_by_user_id`, id, t.OrgID, actorUserID)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.GetContext(ctx, &k, `SELECT `+apiKeyColumns+` FROM api_keys k LEFT JOIN users u ON u.id = k.created_by_user_id
				WHERE k.id = $1 AND k.organization_id = $2`, id, t.OrgID)
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err // already revoked: nothing new to say
		} else if err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		return s.emitAPIKey(ctx, tx, t, actorUserID, "api_key.revoked", k)
	})
	return k, err
}

// APICaller is who an authenticated API request acts for, and where the
// key stands in its rate-limit window.
type APICaller struct {
	KeyID  string `db:"key_id"`
	Scope  string `db:"scope"`
	UserID int64  `db:"user_id"` // the key's maker: the API acts as them
	Role   string `db:"role"`    // the maker's current role
	OrgID  int64  `db:"org_id"`
	Slug   string `db:"slug"`
	// Count is this request's number in the window, which started at
	// WindowStart and lasts the window AuthenticateAPIKey was given.
	Count       int       `db:"count"`
	WindowStart time.Time `db:"window_start"`
	Now         time.Time `db:"now"`
}

// Tenant is the organization the key belongs to.
func (c APICaller) Tenant() Tenant { return Tenant{OrgID: c.OrgID, Slug: c.Slug} }

// CanWrite reports whether the key may change things.
func (c APICaller) CanWrite() bool { return c.Scope == ScopeWrite }

// IsAdmin reports whether the key's maker is still an owner or admin.
func (c APICaller) IsAdmin() bool { return IsAdminRole(c.Role) }

// AuthenticateAPIKey finds the caller of a presented key and counts the
// request in the key's rate-limit window, in one statement (one round
// trip per request): the key must exist, not be revoked, and its maker
// must still be an active member (a disabled admin's keys stop working
// with them). last_used_at moves at most once a minute. Nothing here is
// cached, so a revoke holds from its commit on, in every process. An
// unknown key, revoked or orphaned, is ErrNotFound.
func (s *Store) AuthenticateAPIKey(ctx context.Context, key string, window time.Duration) (APICaller, error) {
	var c APICaller
	if !strings.HasPrefix(key, APIKeyPrefix) || len(key) > 200 {
		return c, ErrNotFound
	}
	secs := max(int64(window/time.Second), 1)
	err := s.getPrepared(ctx, nil, &c, `WITH k AS (
			SELECT k.id, k.scope, k.created_by_user_id, m.role, o.id AS org_id, o.slug, k.last_used_at
			FROM api_keys k
			JOIN organizations o ON o.id = k.organization_id
			JOIN organization_memberships m ON m.organization_id = k.organization_id AND m.user_id = k.created_by_user_id
			WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND m.status = 'active'
		), used AS (
			UPDATE api_keys SET last_used_at = now() FROM k
			WHERE api_keys.id = k.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
			RETURNING 1
		), win AS (
			SELECT to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) AS start
		), counted AS (
			INSERT INTO api_rate_limits AS r (api_key_id, window_start, count)
			SELECT k.id, win.start, 1 FROM k, win
			ON CONFLICT (api_key_id) DO UPDATE
			   SET count = CASE WHEN r.window_start = excluded.window_start THEN r.count + 1 ELSE 1 END,
			       window_start = excluded.window_start
			RETURNING count, window_start
		)
		SELECT k.id::text AS key_id, k.scope, k.created_by_user_id AS user_id, k.role, k.org_id, k.slug,
		       counted.count, counted.window_start, now() AS now
		FROM k, counted`, HashAPIKey(key), secs)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	} else if err != nil {
		return c, fmt.Errorf("authenticate api key: %w", err)
	}
	return c, nil
}
