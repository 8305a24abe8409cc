package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The JSON API's Idempotency-Key (SPEC §15): a POST sent again with the
// same key gets the first response back instead of a second effect. The
// record is written in the transaction that makes the effect, so the two
// commit together: a request that died before its commit left neither,
// and its retry runs afresh. A concurrent duplicate waits on the record's
// primary key until the first commits, then reads its response.

// APIIdempotencyTTL is how long a response is kept for replay.
const APIIdempotencyTTL = 24 * time.Hour

// APIIdempotencyPruneJob deletes expired records in every tenant.
const APIIdempotencyPruneJob = "api_idempotency.prune"

// ErrIdempotencyReused is a key sent again with a different request (the
// IETF draft's 422): the first one's response would answer a question
// that was not asked.
var ErrIdempotencyReused = errors.New("idempotency key reused with a different request")

// APIOnce names one request for replay. An empty Key means the request
// was sent without Idempotency-Key: it just runs.
type APIOnce struct {
	Route    string // method and path: "POST /api/v1/installations"
	Key      string
	Hash     string // of the request body: a different body is ErrIdempotencyReused
	APIKeyID string
}

// APIResponse is a response as kept for replay.
type APIResponse struct {
	Status int
	Body   string
}

// APIWrite runs fn, an API write, in a transaction, with once's record.
// replayed is true when once.Key had answered before: its response is
// returned and fn does not run. An error from fn rolls back everything
// and records nothing, so the request may be sent again. fn may write
// through tx, or run transactions of its own whose effects are idempotent
// under a key derived from once (a directive's idempotency key): tx then
// only holds the record.
func (s *Store) APIWrite(ctx context.Context, t Tenant, once APIOnce, fn func(tx *sqlx.Tx) (APIResponse, error)) (resp APIResponse, replayed bool, err error) {
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		if once.Key != "" {
			var kept bool
			if resp, kept, err = claimAPIOnce(ctx, tx, t, once); err != nil || kept {
				replayed = kept
				return err
			}
		}
		if resp, err = fn(tx); err != nil {
			return err
		}
		if once.Key == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.api_idempotency SET status = $3, body = $4 WHERE route = $1 AND key = $2`),
			once.Route, once.Key, resp.Status, resp.Body)
		return err
	})
	return resp, replayed, err
}

// claimAPIOnce takes the record of once (new, or over an expired one) or
// returns the response it kept.
func claimAPIOnce(ctx context.Context, tx *sqlx.Tx, t Tenant, once APIOnce) (resp APIResponse, kept bool, err error) {
	var claimed bool
	err = tx.GetContext(ctx, &claimed, t.SQL(`
		INSERT INTO {tenant}.api_idempotency AS i (route, key, request_hash, api_key_id, status, body, expires_at)
		VALUES ($1, $2, $3, $4, 0, '', now() + $5 * interval '1 second')
		ON CONFLICT (route, key) DO UPDATE
		   SET request_hash = excluded.request_hash, api_key_id = excluded.api_key_id, status = 0, body = '',
		       created_at = now(), expires_at = excluded.expires_at
		 WHERE i.expires_at <= now()
		RETURNING true`), once.Route, once.Key, once.Hash, once.APIKeyID, int64(APIIdempotencyTTL/time.Second))
	if err == nil {
		return resp, false, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return resp, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	var row struct {
		Hash   string `db:"request_hash"`
		Status int    `db:"status"`
		Body   string `db:"body"`
	}
	if err := tx.GetContext(ctx, &row, t.SQL(`SELECT request_hash, status, body FROM {tenant}.api_idempotency WHERE route = $1 AND key = $2`),
		once.Route, once.Key); err != nil {
		return resp, false, fmt.Errorf("read idempotency record: %w", err)
	}
	if row.Hash != once.Hash {
		return resp, false, ErrIdempotencyReused
	}
	return APIResponse{Status: row.Status, Body: row.Body}, true, nil
}

// PruneAPIIdempotency deletes expired records in every tenant. A tenant
// whose migrations have not reached the table (a failed migration, which
// boot and /healthz report) is passed over.
func (s *Store) PruneAPIIdempotency(ctx context.Context) (int64, error) {
	tenants, err := s.Tenants(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range tenants {
		res, err := s.DB.ExecContext(ctx, t.SQL(`DELETE FROM {tenant}.api_idempotency WHERE expires_at < now()`))
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "42P01" { // undefined_table
			continue
		} else if err != nil {
			return n, fmt.Errorf("prune idempotency records of %s: %w", t.Schema(), err)
		}
		d, _ := res.RowsAffected()
		n += d
	}
	return n, nil
}
