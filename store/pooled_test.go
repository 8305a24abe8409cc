package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// A pooled pool (lib/pq's binary_parameters) still stores JSON held in a
// []byte into jsonb, and binary []byte into bytea, unchanged; and the
// session lookup, prepared elsewhere, runs unprepared.
func TestPooledPoolKeepsArgumentsIntact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.OpenWith(ctx, storetest.PoolDSN(), store.Options{MaxConns: 1, Pooled: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash := []byte{0x00, 0xff, '\\', '{', 0x7f, 0x80}
	var out struct {
		A    string `db:"a"`
		N    int    `db:"n"`
		Raw  []byte `db:"raw"`
		Same bool   `db:"same"`
	}
	err = db.GetContext(ctx, &out, `SELECT $1::jsonb ->> 'a' AS a, jsonb_array_length($2::jsonb) AS n, $3::bytea AS raw,
		$3::bytea = decode('00ff5c7b7f80', 'hex') AS same`,
		[]byte(`{"a":"x"}`), json.RawMessage(`[1,2,3]`), hash)
	if err != nil {
		t.Fatal(err)
	}
	if out.A != "x" || out.N != 3 || !out.Same || !bytes.Equal(out.Raw, hash) {
		t.Errorf("through the pooled pool: %+v", out)
	}
	s, err := store.New(db, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadSession(ctx, "no-such-token"); err != store.ErrNotFound {
		t.Errorf("LoadSession on a pooled pool: %v", err)
	}
	if n := preparedCount(t, db); n != 0 {
		t.Errorf("a pooled pool left %d prepared statements on its connection", n)
	}
}

// preparedCount counts the named statements of db's one connection.
func preparedCount(t *testing.T, db *sqlx.DB) int {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM pg_prepared_statements`); err != nil {
		t.Fatal(err)
	}
	return n
}
