package storetest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// With TEST_POOLED=1 the shared server gets PgBouncer in front of it, in
// transaction pooling mode, as managed PostgreSQL is usually reached:
// Store's pools go through it, while DSN stays the direct connection that
// LISTEN needs (what DIRECT_DATABASE_URL is to the app). The first test
// process starts it beside the server and the last one stops it.

// pooled reports whether the tests run behind PgBouncer.
func pooled() bool { return os.Getenv("TEST_POOLED") != "" }

// bouncer is PgBouncer's files under the shared server's directory.
type bouncer struct{ dir string }

// startBouncer runs PgBouncer in front of the server at direct (a lib/pq
// URL with the superuser's password), unless one already runs there, and
// returns its URL. Call it under the harness's start lock.
func startBouncer(ctx context.Context, dir, direct string) (string, error) {
	b := bouncer{dir: filepath.Join(dir, "pgbouncer")}
	if port, ok := b.running(); ok {
		return b.url(port), nil
	}
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/pgbouncer"); err != nil {
			return "", fmt.Errorf("TEST_POOLED needs pgbouncer (Debian: apt-get install pgbouncer; `make test-pooled` does it): %w", err)
		}
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	if err := b.writeConfig(direct, port); err != nil {
		return "", err
	}
	args := []string{"-d", b.path("pgbouncer.ini")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres"}, args...) // it refuses to run as root
	}
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("start pgbouncer: %w: %s (see %s)", err, out, b.path("pgbouncer.log"))
	}
	if err := os.WriteFile(b.path("port"), []byte(strconv.Itoa(port)), 0o644); err != nil {
		return "", err
	}
	u := b.url(port)
	if err := waitAnswers(ctx, u); err != nil {
		return "", fmt.Errorf("pgbouncer started but does not answer: %w (see %s)", err, b.path("pgbouncer.log"))
	}
	return u, nil
}

// writeConfig sends every database name to the server, as the superuser,
// and trusts its loopback clients (the server's password stays in a 0600
// file owned by the user PgBouncer runs as).
func (b bouncer) writeConfig(direct string, port int) error {
	d, err := url.Parse(direct)
	if err != nil {
		return err
	}
	pw, _ := d.User.Password()
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return err
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s user=%s password=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 20
max_client_conn = 4000
ignore_startup_parameters = extra_float_digits
server_reset_query =
logfile = %s
pidfile = %s
`, d.Hostname(), d.Port(), d.User.Username(), pw, port, b.path("users.txt"), b.path("pgbouncer.log"), b.path("pgbouncer.pid"))
	files := map[string]string{"pgbouncer.ini": ini, "users.txt": fmt.Sprintf("%q \"\"\n", d.User.Username())}
	for name, body := range files {
		if err := os.WriteFile(b.path(name), []byte(body), 0o600); err != nil {
			return err
		}
	}
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range []string{b.dir, b.path("pgbouncer.ini"), b.path("users.txt")} {
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// running returns the port of a live PgBouncer started from b.dir.
func (b bouncer) running() (int, bool) {
	pid, err := readInt(b.path("pgbouncer.pid"))
	if err != nil || syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	port, err := readInt(b.path("port"))
	return port, err == nil
}

// stop ends PgBouncer at once (SIGTERM: immediate shutdown).
func (b bouncer) stop() {
	pid, err := readInt(b.path("pgbouncer.pid"))
	if err != nil || syscall.Kill(pid, syscall.SIGTERM) != nil {
		return
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

func (b bouncer) path(name string) string { return filepath.Join(b.dir, name) }

func (b bouncer) url(port int) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

func waitAnswers(ctx context.Context, dsn string) error {
	var err error
	for i := 0; i < 100; i++ {
		var db *sqlx.DB
		if db, err = store.OpenWith(ctx, dsn, store.Options{MaxConns: 1, Pooled: true}); err == nil {
			db.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func readInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
