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
// Tenant SQL names its schema, so each tenant has its own statements, and
// each is prepared on every pool connection that runs it. The cache keeps
// two generations of at most preparedGeneration statements: a statement
// used from the older one moves to the newer; when the newer is full, the
// older one's statements are closed (on every connection), so the server
// holds at most 2 x preparedGeneration statements per connection.

// preparedGeneration sizes one generation (about six statements per
// active tenant, plus the session lookup).
const preparedGeneration = 256

// stmtCaches holds one cache per *sqlx.DB.
var stmtCaches sync.Map // *sqlx.DB → *stmtCache

type stmtCache struct {
	mu       sync.Mutex
	cur, old map[string]*sqlx.Stmt
}

// prepared returns the cached statement of q, preparing it on first use,
// or nil when preparing failed (the caller runs q unprepared, where a real
// error in q shows) or the pool is behind a transaction-mode pooler, where
// a statement prepared on one server connection is unknown on the next.
func (s *Store) prepared(ctx context.Context, q string) *sqlx.Stmt {
	if isPooled(s.DB) {
		return nil
	}
	v, ok := stmtCaches.Load(s.DB)
	if !ok {
		v, _ = stmtCaches.LoadOrStore(s.DB, &stmtCache{cur: map[string]*sqlx.Stmt{}, old: map[string]*sqlx.Stmt{}})
	}
	c := v.(*stmtCache)
	if st := c.lookup(q); st != nil {
		return st
	}
	st, err := s.DB.PreparexContext(ctx, q)
	if err != nil {
		return nil
	}
	return c.add(q, st)
}

// lookup finds q, moving it to the newer generation. Both happen under the
// lock, so a statement handed out is never one a concurrent add closes
// (add closes only statements left in the older generation).
func (c *stmtCache) lookup(q string) *sqlx.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.cur[q]; ok {
		return st
	}
	st, ok := c.old[q]
	if ok {
		delete(c.old, q)
		c.put(q, st)
	}
	return st
}

func (c *stmtCache) add(q string, st *sqlx.Stmt) *sqlx.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.cur[q]; ok {
		st.Close() // another request prepared it meanwhile
		return prev
	}
	c.put(q, st)
	return st
}

// put adds to the newer generation, retiring the older one when full.
func (c *stmtCache) put(q string, st *sqlx.Stmt) {
	if len(c.cur) >= preparedGeneration {
		for _, old := range c.old {
			old.Close() // database/sql finishes uses already under way first
		}
		c.old, c.cur = c.cur, make(map[string]*sqlx.Stmt, preparedGeneration)
	}
	c.cur[q] = st
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
