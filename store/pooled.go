package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Behind a connection pooler in transaction mode (PgBouncer), a server
// connection is ours only until the end of each transaction, and a
// statement outside one is its own transaction. Three things follow:
//
//   - Named prepared statements do not survive: the next transaction may
//     run on a server connection that never saw them. The statement cache
//     (prepared.go) is off for a pooled pool.
//   - lib/pq runs a query with parameters as Parse/Describe/Sync, waits
//     for the description, then Bind/Execute/Sync: the pooler may hand the
//     second half to another server connection, where the unnamed
//     statement does not exist. binary_parameters=yes makes lib/pq send
//     all of it in one go, which the pooler keeps together.
//   - Session state (LISTEN, SET, session advisory locks) is lost between
//     transactions. FleetPrompt uses SET LOCAL / set_config(…, true) and
//     transaction-scoped advisory locks only, and LISTENs on a separate
//     direct connection (DIRECT_DATABASE_URL).
//
// binary_parameters has a cost: lib/pq no longer learns the parameters'
// types, and sends every []byte in binary format, which jsonb does not
// read (its binary form starts with a version byte). pooledConn passes a
// []byte that holds a JSON document as text instead, which every type
// that stores JSON (jsonb, json, text) reads; other []byte (bytea: the
// session token hashes) stay binary.

// pooledConnector opens lib/pq connections for a pooled pool.
type pooledConnector struct{ *pq.Connector }

// pooledDriver marks a pool opened through pooledConnector (isPooled).
type pooledDriver struct{ driver.Driver }

func (c pooledConnector) Driver() driver.Driver { return pooledDriver{c.Connector.Driver()} }

func (c pooledConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(pqConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("store: lib/pq's connection lacks an interface the pooled mode forwards")
	}
	return pooledConn{pc}, nil
}

// pqConn is what database/sql uses of a lib/pq connection; embedding it
// forwards all of it.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

type pooledConn struct{ pqConn }

// CheckNamedValue sends JSON held in a []byte (json.RawMessage included)
// as text, then lets lib/pq convert the argument as usual.
func (c pooledConn) CheckNamedValue(nv *driver.NamedValue) error {
	if v := reflect.ValueOf(nv.Value); v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 && !v.IsNil() {
		if b := v.Bytes(); json.Valid(b) {
			nv.Value = string(b)
			return nil
		}
	}
	return c.pqConn.CheckNamedValue(nv)
}

// openPooled opens a pool for a DSN that reaches a transaction-mode
// pooler.
func openPooled(dsn string) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.BinaryParameters = true
	conn, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(sql.OpenDB(pooledConnector{conn}), "postgres"), nil
}

// isPooled reports whether db was opened with Options.Pooled.
func isPooled(db *sqlx.DB) bool {
	_, ok := db.Driver().(pooledDriver)
	return ok
}
