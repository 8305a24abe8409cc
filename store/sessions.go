package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Session is who is signed in, with the organizations they may act in.
// Only active memberships are listed: nothing else grants anything.
type Session struct {
	UserID      int64
	Email       string
	Name        string
	Handle      string
	OrgID       sql.NullInt64 // the organization chosen for this session
	LastSeenAt  time.Time
	Memberships []Membership
}

// Current returns the membership the session acts in: the chosen one when
// still active, else the first active one. ok is false when there is none.
func (s Session) Current() (m Membership, ok bool) {
	for _, m := range s.Memberships {
		if s.OrgID.Valid && m.OrgID == s.OrgID.Int64 {
			return m, true
		}
	}
	if len(s.Memberships) > 0 {
		return s.Memberships[0], true
	}
	return Membership{}, false
}

// NewSessionToken returns a random token for a cookie.
func NewSessionToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// maxUserAgent caps what a session keeps of its client's User-Agent: enough
// to tell browsers apart on the settings page, not a place to store junk.
const maxUserAgent = 512

// CreateSession records a new server-side session and returns its token.
// userAgent is the signing-in client's User-Agent, for the session list.
func (s *Store) CreateSession(ctx context.Context, userID int64, orgID *int64, ttl time.Duration, userAgent string) (string, error) {
	token, err := NewSessionToken()
	if err != nil {
		return "", err
	}
	_, err = s.DB.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, org_id, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash(token), userID, orgID, time.Now().Add(ttl), truncateUTF8(userAgent, maxUserAgent))
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// LoadSession returns the live session for token, with the user's active
// memberships, in one round trip. ErrNotFound when it was ended or expired.
func (s *Store) LoadSession(ctx context.Context, token string) (Session, error) {
	var row struct {
		UserID      int64         `db:"user_id"`
		OrgID       sql.NullInt64 `db:"org_id"`
		Email       string        `db:"email"`
		Name        string        `db:"name"`
		Handle      string        `db:"handle"`
		LastSeenAt  time.Time     `db:"last_seen_at"`
		Memberships []byte        `db:"memberships"`
	}
	// Every signed-in request runs this: prepared, it is one round trip
	// with a cached plan (see prepared.go).
	err := s.getPrepared(ctx, nil, &row, `
		SELECT s.user_id, s.org_id, u.email, u.name, u.handle, s.last_seen_at,
		       coalesce((SELECT json_agg(json_build_object('org_id', o.id, 'org_name', o.name, 'org_slug', o.slug,
		                                                   'org_tier', o.tier, 'role', m.role) ORDER BY lower(o.name), o.id)
		                   FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id
		                  WHERE m.user_id = s.user_id AND m.status = 'active'), '[]') AS memberships
		  FROM sessions s JOIN users u ON u.id = s.user_id
		 WHERE s.token_hash = $1 AND s.expires_at > now()`, tokenHash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	} else if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	sess := Session{UserID: row.UserID, OrgID: row.OrgID, Email: row.Email, Name: row.Name, Handle: row.Handle, LastSeenAt: row.LastSeenAt}
	if err := json.Unmarshal(row.Memberships, &sess.Memberships); err != nil {
		return Session{}, fmt.Errorf("decode memberships: %w", err)
	}
	return sess, nil
}

// TouchSession slides the session's expiry forward.
func (s *Store) TouchSession(ctx context.Context, token string, ttl time.Duration) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE sessions SET last_seen_at = now(), expires_at = $2 WHERE token_hash = $1`,
		tokenHash(token), time.Now().Add(ttl))
	return err
}

// SelectOrganization switches the session's organization to the one with
// slug, among the user's active memberships only; ErrNotFound otherwise.
func (s *Store) SelectOrganization(ctx context.Context, token, slug string) (Membership, error) {
	var m Membership
	err := s.DB.GetContext(ctx, &m, `
		UPDATE sessions s SET org_id = o.id
		  FROM organizations o JOIN organization_memberships m ON m.organization_id = o.id
		 WHERE s.token_hash = $1 AND o.slug = $2 AND m.user_id = s.user_id AND m.status = 'active'
		RETURNING o.id AS org_id, o.name AS org_name, o.slug AS org_slug, o.tier AS org_tier, m.role`, tokenHash(token), slug)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

// DeleteSession ends a session: every copy of its cookie stops working.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token))
	return err
}

// DeleteExpiredSessions removes ended sessions; cron calls it.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.DB.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < now()`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// SessionHash is the name of a session's token everywhere but its cookie:
// the hex SHA-256 the sessions table keys on, and the one the live hub and
// the session cache use.
func SessionHash(token string) string { return hex.EncodeToString(tokenHash(token)) }

// SessionInfo is one of a user's live sessions, as the settings page
// lists them.
type SessionInfo struct {
	Hash       string    `db:"hash"` // SessionHash of its token
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	UserAgent  string    `db:"user_agent"`
	OrgName    string    `db:"org_name"` // the organization it acts in, "" for none
	Current    bool      `db:"current"`  // the session of the token asked with
}

// UserSessions lists the user's unexpired sessions, the most recently
// used first; current marks the one of token.
func (s *Store) UserSessions(ctx context.Context, userID int64, token string) ([]SessionInfo, error) {
	var out []SessionInfo
	err := s.DB.SelectContext(ctx, &out, `
		SELECT encode(s.token_hash, 'hex') AS hash, s.created_at, s.last_seen_at, s.expires_at, s.user_agent,
		       coalesce(o.name, '') AS org_name, s.token_hash = $2 AS current
		  FROM sessions s LEFT JOIN organizations o ON o.id = s.org_id
		 WHERE s.user_id = $1 AND s.expires_at > now()
		 ORDER BY s.token_hash = $2 DESC, s.last_seen_at DESC, s.created_at DESC`, userID, tokenHash(token))
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
	}
	return out, nil
}

// DeleteOtherSessions ends every session of the user but the one of
// keepToken, and returns the ended ones' hashes (SessionHash), for the
// caller to drop from caches and end their streams in every process.
func (s *Store) DeleteOtherSessions(ctx context.Context, userID int64, keepToken string) ([]string, error) {
	return deleteOtherSessions(ctx, s.DB, userID, keepToken)
}

func deleteOtherSessions(ctx context.Context, q sqlx.QueryerContext, userID int64, keepToken string) ([]string, error) {
	var ended []string
	if err := sqlx.SelectContext(ctx, q, &ended, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2
		RETURNING encode(token_hash, 'hex')`, userID, tokenHash(keepToken)); err != nil {
		return nil, fmt.Errorf("end other sessions of user %d: %w", userID, err)
	}
	return ended, nil
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
