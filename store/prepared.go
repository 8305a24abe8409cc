package store

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Prepared statements for the hot paths (a reply, a signal's emit, the
// thread page). lib/pq sends a query with parameters as an unnamed
// statement: one round trip to parse and describe it, another to run it,
// and PostgreSQL plans it afresh every time. The reply's and the emit's
// statements run while the thread's row lock and the tenant's emit lock
// are held, so that round trip and that planning were paid by every
// waiting writer in turn. A prepared statement runs in one round trip and
// its plan is cached by the server.
//
// Tenant SQL names its schema, so each tenant has its own statements. The
// cache is bounded: once full, further statements run unprepared, as
// before, rather than growing every connection's memory without limit.

// maxPrepared bounds the statements cached per database handle; each is
// prepared on each pool connection that runs it.
const maxPrepared = 1024

// stmtCaches holds one cache per *sqlx.DB.
var stmtCaches sync.Map // *sqlx.DB → *stmtCache

type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// prepared returns the cached statement of q, preparing it on first use,
// or nil when the cache is full or preparing failed (the caller runs q
// unprepared; a real error in q shows there).
func (s *Store) prepared(ctx context.Context, q string) *sqlx.Stmt {
	v, ok := stmtCaches.Load(s.DB)
	if !ok {
		v, _ = stmtCaches.LoadOrStore(s.DB, &stmtCache{m: map[string]*sqlx.Stmt{}})
	}
	c := v.(*stmtCache)
	c.mu.Lock()
	st, ok := c.m[q]
	full := len(c.m) >= maxPrepared
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := s.DB.PreparexContext(ctx, q)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[q]; ok {
		st.Close() // another request prepared it meanwhile
		return prev
	}
	c.m[q] = st
	return st
}

// getPrepared is tx.GetContext (or the pool's, when tx is nil) through the
// statement cache.
func (s *Store) getPrepared(ctx context.Context, tx *sqlx.Tx, dest any, q string, args ...any) error {
	st := s.prepared(ctx, q)
	switch {
	case st == nil && tx == nil:
		return s.DB.GetContext(ctx, dest, q, args...)
	case st == nil:
		return tx.GetContext(ctx, dest, q, args...)
	case tx == nil:
		return st.GetContext(ctx, dest, args...)
	}
	return tx.StmtxContext(ctx, st).GetContext(ctx, dest, args...)
}

// selectPrepared is SelectContext through the statement cache.
func (s *Store) selectPrepared(ctx context.Context, tx *sqlx.Tx, dest any, q string, args ...any) error {
	st := s.prepared(ctx, q)
	switch {
	case st == nil && tx == nil:
		return s.DB.SelectContext(ctx, dest, q, args...)
	case st == nil:
		return tx.SelectContext(ctx, dest, q, args...)
	case tx == nil:
		return st.SelectContext(ctx, dest, args...)
	}
	return tx.StmtxContext(ctx, st).SelectContext(ctx, dest, args...)
}
