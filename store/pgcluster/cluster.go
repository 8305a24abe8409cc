// Package pgcluster runs a private PostgreSQL server from the machine's own
// server binaries. The app uses it when no DATABASE_URL is given, and the
// test harness uses it to give the whole test run one real database server.
package pgcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cluster is one PostgreSQL data directory and the server running on it.
type Cluster struct {
	// Dir holds the cluster's files (PG_VERSION, postmaster.pid, ...).
	Dir string
	// Fast trades durability for speed (fsync off); for tests only.
	Fast bool
	// MaxConnections overrides the server's max_connections when > 0.
	MaxConnections int
	Logger         *slog.Logger

	binDir   string
	port     int
	password string
	owner    *osUser  // nil unless we run as root and must act as postgres
	users    *os.File // our shared lock on Dir+".users" while we use the server
}

type osUser struct {
	name     string
	uid, gid uint32
}

// ErrNoBinaries is returned when no PostgreSQL server binaries can be found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (looked in PATH, `pg_config --bindir` and /usr/lib/postgresql/*/bin): " +
	"install them (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to an existing server")

// FindBinDir locates a directory holding initdb, pg_ctl and postgres.
func FindBinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first.
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// Prepare resolves binaries and the system user the server must run as. It
// is separate from Start so callers can check reachability first.
func (c *Cluster) Prepare() error {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	dir, err := FindBinDir()
	if err != nil {
		return err
	}
	c.binDir = dir
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return err
	}
	c.Dir = abs
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: run it as the postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root, so the server must run as the 'postgres' system user, which does not exist: %w (create it, run as another user, or set DATABASE_URL)", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.owner = &osUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}
	}
	return nil
}

// Unreachable reports the first parent of Dir that the server's system
// user cannot traverse (e.g. /root, mode 0700), or "" when all are fine.
func (c *Cluster) Unreachable() string {
	if c.owner == nil {
		return ""
	}
	for p := filepath.Dir(c.Dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			st := fi.Sys().(*syscall.Stat_t)
			mode := fi.Mode().Perm()
			ok := mode&0o001 != 0 ||
				(st.Uid == c.owner.uid && mode&0o100 != 0) ||
				(st.Gid == c.owner.gid && mode&0o010 != 0)
			if !ok {
				return p
			}
		}
		if p == "/" || p == "." {
			return ""
		}
	}
}

// Start initialises the cluster when new, clears a stale postmaster.pid,
// and starts the server on loopback. A server already running on this
// directory (another command's, or one left behind by a crash) is adopted.
//
// Every Cluster that starts or adopts the server holds a shared lock on
// Dir+".users" until Stop (or until its process dies: the kernel drops
// the lock then), and starting and stopping happen under an exclusive
// lock on Dir+".lock". So `worker` or `migrate` run beside `serve` on one
// DATA_DIR never stop the server under it: Stop stops the server only for
// its last user.
func (c *Cluster) Start(ctx context.Context) error {
	if c.users != nil {
		return errors.New("pgcluster: Start called twice without Stop")
	}
	if c.binDir == "" {
		if err := c.Prepare(); err != nil {
			return err
		}
	}
	if p := c.Unreachable(); p != "" {
		return fmt.Errorf("the %s user cannot reach %s because %s is not searchable by it: choose a DATA_DIR outside it", c.owner.name, c.Dir, p)
	}
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return err
	}
	gate, err := lockFile(c.Dir+".lock", syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock(gate)
	users, err := lockFile(c.Dir+".users", syscall.LOCK_SH)
	if err != nil {
		return err
	}
	if err := c.start(ctx); err != nil {
		unlock(users)
		return err
	}
	c.users = users
	return nil
}

// start does Start's work under the start lock.
func (c *Cluster) start(ctx context.Context) error {
	pw, err := c.loadPassword()
	if err != nil {
		return err
	}
	c.password = pw
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	}
	if pid, port, ok := c.runningServer(); ok {
		c.Logger.Info("adopting running postgres", "dir", c.Dir, "pid", pid, "port", port)
		c.port = port
		return nil
	}
	port, err := c.choosePort()
	if err != nil {
		return err
	}
	c.port = port
	opts := []string{
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(port),
		"-c", "unix_socket_directories=" + c.Dir,
	}
	if c.MaxConnections > 0 {
		opts = append(opts, "-c", "max_connections="+strconv.Itoa(c.MaxConnections))
	}
	if c.Fast {
		opts = append(opts, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	start := time.Now()
	out, err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-s", "-D", c.Dir,
		"-l", filepath.Join(c.Dir, "server.log"), "-o", strings.Join(opts, " "))
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s (see %s)", err, out, filepath.Join(c.Dir, "server.log"))
	}
	if err := os.WriteFile(c.Dir+".port", []byte(strconv.Itoa(port)), 0o600); err != nil {
		return err
	}
	c.Logger.Info("postgres started", "dir", c.Dir, "port", port, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Stop ends this Cluster's use of the server. The server itself is shut
// down (fast mode: open sessions are ended) only when no other Cluster, in
// this process or another, still uses it; otherwise it keeps running for
// them and the last one out stops it.
func (c *Cluster) Stop() error {
	if c.users == nil {
		return nil
	}
	gate, err := lockFile(c.Dir+".lock", syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock(gate)
	users := c.users
	c.users = nil
	defer unlock(users)
	// Under the start lock nobody can arrive meanwhile; the upgrade to an
	// exclusive lock succeeds only when no other user holds its shared one.
	if err := syscall.Flock(int(users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		c.Logger.Info("postgres left running for its other users", "dir", c.Dir)
		return nil
	}
	return c.stopServer()
}

// Detach ends this Cluster's use of the server without ever stopping it
// (a test harness keeping its server for the next run).
func (c *Cluster) Detach() {
	if c.users != nil {
		unlock(c.users)
		c.users = nil
	}
}

// Restart restarts the server in place (same port and options) with
// pg_ctl's shutdown mode: "immediate" is a crash as far as the database
// can tell (no checkpoint, recovery from the WAL at start), which is what
// the fault tests and bench/faults need. Open connections are cut either
// way.
func (c *Cluster) Restart(ctx context.Context, mode string) error {
	// -l: without it the new postmaster writes to our pipe, and run would
	// wait for it to exit.
	out, err := c.run(ctx, "pg_ctl", "restart", "-w", "-t", "60", "-s", "-m", mode, "-D", c.Dir,
		"-l", filepath.Join(c.Dir, "server.log"))
	if err != nil {
		return fmt.Errorf("pg_ctl restart -m %s: %w: %s", mode, err, out)
	}
	return nil
}

func (c *Cluster) stopServer() error {
	out, err := c.run(context.Background(), "pg_ctl", "stop", "-w", "-s", "-m", "fast", "-D", c.Dir)
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	c.Logger.Info("postgres stopped", "dir", c.Dir)
	return nil
}

// Port is the TCP port the server listens on (127.0.0.1 only).
func (c *Cluster) Port() int { return c.port }

// DSN returns a lib/pq connection string for database db.
func (c *Cluster) DSN(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (c *Cluster) initdb(ctx context.Context) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if err := c.chown(c.Dir); err != nil {
		return err
	}
	pwf, err := os.CreateTemp("", "fp-pw-*")
	if err != nil {
		return err
	}
	defer os.Remove(pwf.Name())
	if _, err := pwf.WriteString(c.password + "\n"); err != nil {
		return err
	}
	pwf.Close()
	if err := c.chown(pwf.Name()); err != nil {
		return err
	}
	start := time.Now()
	out, err := c.run(ctx, "initdb", "-D", c.Dir, "-U", "postgres", "--pwfile", pwf.Name(),
		"--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if err != nil {
		// A half-made cluster would block every later start; remove it.
		os.RemoveAll(c.Dir)
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	c.Logger.Info("postgres cluster initialised", "dir", c.Dir, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// loadPassword returns the superuser password kept beside the cluster,
// generating it the first time.
func (c *Cluster) loadPassword() (string, error) {
	path := c.Dir + ".password"
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	buf := make([]byte, 18)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	pw := hex.EncodeToString(buf)
	return pw, os.WriteFile(path, []byte(pw+"\n"), 0o600)
}

// runningServer reads postmaster.pid. A live postgres process there is
// returned; a stale file (crash, reboot) is removed so start can proceed.
func (c *Cluster) runningServer() (pid, port int, ok bool) {
	path := filepath.Join(c.Dir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) >= 4 {
		pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
		port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if pid > 0 {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") && port > 0 {
			return pid, port, true
		}
	}
	c.Logger.Warn("removing stale postmaster.pid", "dir", c.Dir, "pid", pid)
	os.Remove(path)
	return 0, 0, false
}

// choosePort reuses the port of the last run when it is free, so the DSN
// printed once stays valid, and otherwise asks the kernel for a free one.
func (c *Cluster) choosePort() (int, error) {
	if b, err := os.ReadFile(c.Dir + ".port"); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && portFree(p) {
			return p, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func (c *Cluster) chown(path string) error {
	if c.owner == nil {
		return nil
	}
	return os.Chown(path, int(c.owner.uid), int(c.owner.gid))
}

func (c *Cluster) run(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, bin), args...)
	cmd.Dir = "/"
	if c.owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.owner.uid, Gid: c.owner.gid}}
		cmd.Env = append(os.Environ(), "HOME=/var/lib/postgresql", "USER=postgres", "LOGNAME=postgres")
	}
	// pg_ctl start leaves the server running; it must not die with our
	// process group on Ctrl-C before we stop it in order.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// lockFile opens path (creating it) and flocks it. The descriptor is
// close-on-exec, so the postgres processes we start never inherit it.
func lockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

func unlock(f *os.File) {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}
