// Package storetest gives tests a real PostgreSQL: one private server for
// the whole `go test ./...` run, shared by every package's test binary, and
// a fresh database per package.
//
// go test runs package binaries as separate processes, so sharing works
// through files: the first process to arrive starts the server under an
// exclusive lock; each process holds a shared lock on users.lock while it
// runs; the last one out (it alone can upgrade to an exclusive lock) stops
// the server. Set TEST_DATABASE_URL to use an existing server instead.
//
// TEST_POOLED=1 puts PgBouncer in transaction mode in front of the server
// (pgbouncer.go): Store's pools go through it; DSN stays direct. With
// TEST_DATABASE_URL, give the pooler's URL as TEST_POOLED_DATABASE_URL.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
	"fleetprompt/store/pgcluster"
)

var (
	mu      sync.Mutex
	dsn     string
	poolDSN string // dsn, or through PgBouncer with TEST_POOLED
	adminDB *sqlx.DB
	dbName  string
)

// Main wraps testing.M: it attaches to (or starts) the shared server,
// creates and migrates this package's database, runs the tests, and drops
// the database. Use it from TestMain: os.Exit(storetest.Main(m)).
func Main(m *testing.M) int {
	cleanup, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 2
	}
	code := m.Run()
	cleanup()
	return code
}

// DSN is the connection string of this package's test database: a direct
// connection, fit for LISTEN (with TEST_POOLED, what DIRECT_DATABASE_URL
// is to the app).
func DSN() string { return dsn }

// PoolDSN is the connection string Store's pools use: DSN, or PgBouncer's
// with TEST_POOLED (what DATABASE_URL is to the app).
func PoolDSN() string { return poolDSN }

// Pooled reports whether Store's pools go through a transaction-mode
// pooler.
func Pooled() bool { return poolDSN != dsn }

// Store opens a pool on the package database and returns a Store using the
// cheapest bcrypt cost (hashing is not what tests measure).
func Store(t testing.TB) *store.Store {
	t.Helper()
	db, err := store.OpenWith(context.Background(), poolDSN, store.Options{MaxConns: 20, Pooled: Pooled()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := store.New(db, 4)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Name returns a unique lowercase identifier with prefix, for slugs and
// emails that must not collide between tests.
func Name(prefix string) string {
	return fmt.Sprintf("%s%d%04d", prefix, time.Now().UnixNano()%1e9, rand.IntN(10000))
}

func setup() (func(), error) {
	ctx := context.Background()
	base := os.Getenv("TEST_DATABASE_URL")
	poolBase := os.Getenv("TEST_POOLED_DATABASE_URL")
	var release func()
	if base == "" {
		var err error
		if base, poolBase, release, err = sharedServer(ctx); err != nil {
			return nil, err
		}
	} else if pooled() && poolBase == "" {
		return nil, fmt.Errorf("TEST_POOLED with TEST_DATABASE_URL needs the pooler's URL in TEST_POOLED_DATABASE_URL")
	}
	admin, err := store.Open(ctx, base, 4)
	if err != nil {
		release2(release)
		return nil, err
	}
	adminDB = admin
	dbName = "fp_" + packageName() + "_" + fmt.Sprint(os.Getpid())
	admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+dbName+` WITH (FORCE)`)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+dbName); err != nil {
		release2(release)
		return nil, fmt.Errorf("create database: %w", err)
	}
	dsn, poolDSN = replaceDB(base, dbName), replaceDB(base, dbName)
	if pooled() {
		poolDSN = replaceDB(poolBase, dbName)
	}
	db, err := store.Open(ctx, dsn, 4)
	if err != nil {
		return nil, err
	}
	s, err := store.New(db, 4)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	db.Close()
	return func() {
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+dbName+` WITH (FORCE)`); err != nil {
			fmt.Fprintln(os.Stderr, "storetest: drop database:", err)
		}
		admin.Close()
		release2(release)
	}, nil
}

func release2(f func()) {
	if f != nil {
		f()
	}
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

func packageName() string {
	wd, _ := os.Getwd()
	n := nonIdent.ReplaceAllString(strings.ToLower(filepath.Base(wd)), "_")
	if len(n) > 20 {
		n = n[:20]
	}
	return n
}

func replaceDB(dsn, db string) string {
	i := strings.LastIndex(dsn, "/")
	j := strings.Index(dsn[i:], "?")
	if j < 0 {
		return dsn[:i+1] + db
	}
	return dsn[:i+1] + db + dsn[i+j:]
}

// ServerDir is where the shared test server keeps its files: under the
// system temp dir (reachable by the postgres user even when the checkout
// sits in a 0700 home), one per checkout.
func ServerDir() string {
	root := moduleRoot()
	h := sha256.Sum256([]byte(root))
	return filepath.Join(os.TempDir(), "fleetprompt-test-"+hex.EncodeToString(h[:4]))
}

func moduleRoot() string {
	wd, _ := os.Getwd()
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return wd
}

// sharedServer attaches to (or starts) the run's server, and its PgBouncer
// with TEST_POOLED; it returns their URLs and the release to call at exit.
func sharedServer(ctx context.Context) (direct, pooler string, release func(), err error) {
	dir := ServerDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", nil, err
	}
	startLock, err := lockFile(filepath.Join(dir, "start.lock"), syscall.LOCK_EX)
	if err != nil {
		return "", "", nil, err
	}
	defer unlock(startLock)
	users, err := lockFile(filepath.Join(dir, "users.lock"), syscall.LOCK_SH)
	if err != nil {
		return "", "", nil, err
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := &pgcluster.Cluster{Dir: filepath.Join(dir, "pg"), Fast: true, MaxConnections: 400, Logger: quiet}
	if err := c.Start(ctx); err != nil {
		unlock(users)
		return "", "", nil, err
	}
	if pooled() {
		if pooler, err = startBouncer(ctx, dir, c.DSN("postgres")); err != nil {
			c.Detach()
			unlock(users)
			return "", "", nil, err
		}
	}
	release = func() {
		sl, err := lockFile(filepath.Join(dir, "start.lock"), syscall.LOCK_EX)
		if err != nil {
			return
		}
		defer unlock(sl)
		// Upgrading to exclusive succeeds only when no other test process
		// holds the shared lock: then we are the last one and stop it.
		last := syscall.Flock(int(users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
		if last && os.Getenv("TEST_KEEP_SERVER") == "" {
			bouncer{dir: filepath.Join(dir, "pgbouncer")}.stop()
			c.Stop()
		} else {
			c.Detach()
		}
		unlock(users)
	}
	return c.DSN("postgres"), pooler, release, nil
}

func lockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func unlock(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}
