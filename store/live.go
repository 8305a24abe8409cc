package store

import (
	"context"
	"fmt"

	"github.com/lib/pq"
)

// Queries of the live layer (handlers/live): loading announced signals in
// batches, naming their actors, and re-checking open streams' sessions.

// SignalsBySeqs returns the signals with these seqs, oldest first.
func (s *Store) SignalsBySeqs(ctx context.Context, t Tenant, seqs []int64) ([]Signal, error) {
	var out []Signal
	err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals WHERE seq = ANY($1) ORDER BY seq`),
		pq.Array(seqs))
	if err != nil {
		return nil, fmt.Errorf("read signals by seq: %w", err)
	}
	return out, nil
}

// UserNames maps user ids to display names; unknown ids are left out.
func (s *Store) UserNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT id, name FROM users WHERE id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("read user names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// StreamGrant is what an open event stream was allowed on: a session
// (the hex sha256 of its token, as sessions.token_hash stores it) acting
// in an organization.
type StreamGrant struct {
	SessionHash string
	OrgID       int64
}

// ValidStreamGrants reports which grants still hold: the session is alive
// and its user an active member of the organization.
func (s *Store) ValidStreamGrants(ctx context.Context, grants []StreamGrant) (map[StreamGrant]bool, error) {
	out := make(map[StreamGrant]bool, len(grants))
	if len(grants) == 0 {
		return out, nil
	}
	hashes := make([]string, len(grants))
	orgs := make([]int64, len(grants))
	for i, g := range grants {
		hashes[i], orgs[i] = g.SessionHash, g.OrgID
	}
	rows, err := s.DB.QueryContext(ctx, `
		SELECT g.hash, g.org_id
		  FROM unnest($1::text[], $2::bigint[]) AS g(hash, org_id)
		  JOIN sessions se ON se.token_hash = decode(g.hash, 'hex') AND se.expires_at > now()
		  JOIN organization_memberships m ON m.user_id = se.user_id AND m.organization_id = g.org_id AND m.status = 'active'`,
		pq.Array(hashes), pq.Array(orgs))
	if err != nil {
		return nil, fmt.Errorf("check stream grants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g StreamGrant
		if err := rows.Scan(&g.SessionHash, &g.OrgID); err != nil {
			return nil, err
		}
		out[g] = true
	}
	return out, rows.Err()
}
