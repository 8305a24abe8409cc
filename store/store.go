// Package store is FleetPrompt's data layer: one Store over a PostgreSQL
// pool, one file per table or aggregate, SQL inline beside each method.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver

	"fleetprompt/migrations"
)

// Store reads and writes everything FleetPrompt keeps.
type Store struct {
	DB *sqlx.DB
	// BcryptCost is the work factor for new password hashes.
	BcryptCost int

	public, tenant migrations.Set
	dummyHash      []byte // compared against when the email is unknown
}

// Open connects to PostgreSQL and checks the connection.
func Open(ctx context.Context, dsn string, maxConns int) (*sqlx.DB, error) {
	return OpenWith(ctx, dsn, Options{MaxConns: maxConns})
}

// Options tune OpenWith.
type Options struct {
	MaxConns int
	// Pooled says the DSN reaches PostgreSQL through a connection pooler
	// in transaction mode (PgBouncer): no statement cache, and lib/pq in
	// its single-round-trip mode (see pooled.go).
	Pooled bool
}

// OpenWith connects to PostgreSQL with o and checks the connection.
func OpenWith(ctx context.Context, dsn string, o Options) (*sqlx.DB, error) {
	var db *sqlx.DB
	var err error
	if o.Pooled {
		db, err = openPooled(dsn)
	} else {
		db, err = sqlx.Open("postgres", dsn)
	}
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// New builds a Store. It loads the embedded migrations and fails when they
// are not numbered without gaps.
func New(db *sqlx.DB, bcryptCost int) (*Store, error) {
	pub, ten, err := migrations.Load()
	if err != nil {
		return nil, err
	}
	s := &Store{DB: db, BcryptCost: bcryptCost, public: pub, tenant: ten}
	if s.dummyHash, err = hashPassword("not-a-real-password", bcryptCost); err != nil {
		return nil, err
	}
	return s, nil
}

// Tx runs fn in a transaction, committing when it returns nil and rolling
// back on error or panic.
func (s *Store) Tx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.DB.GetContext(ctx, &one, `SELECT 1`)
}
