package pgcluster

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// TestRecoversFromCrash starts a real cluster, kills the postmaster with
// SIGKILL (leaving a stale postmaster.pid), and starts it again.
func TestRecoversFromCrash(t *testing.T) {
	dir := tempDir(t, 0o755) // reachable by the postgres user when we are root
	c := &Cluster{Dir: filepath.Join(dir, "pg"), Fast: true}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ping(t, c)
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	// Children may linger a moment after the postmaster dies.
	time.Sleep(300 * time.Millisecond)
	c.Detach() // its process would have died with it, dropping its lock

	again := &Cluster{Dir: c.Dir, Fast: true}
	if err := again.Start(ctx); err != nil {
		t.Fatalf("restart after crash: %v", err)
	}
	defer again.Stop()
	ping(t, again)
}

// TestAdoptsRunningServer: a second Start on a live cluster (another
// command on the same DATA_DIR) connects to it instead of failing, and
// its Stop leaves the server running for the Cluster that started it.
func TestAdoptsRunningServer(t *testing.T) {
	dir := tempDir(t, 0o755)
	c := &Cluster{Dir: filepath.Join(dir, "pg"), Fast: true}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	other := &Cluster{Dir: c.Dir}
	if err := other.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if other.Port() != c.Port() {
		t.Errorf("adopted port %d, server on %d", other.Port(), c.Port())
	}
	ping(t, other)
	if err := other.Stop(); err != nil {
		t.Fatal(err)
	}
	ping(t, c) // the adopter's exit must not take the server down
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := tryPing(c); err == nil {
		t.Error("the server still answers after its last user stopped")
	}
}

// TestLastUserStopsAnOrphan: a server whose starter died (kill -9 leaves
// postgres running) is adopted, and stopped by the adopter when it is the
// last one using it, so it does not run forever.
func TestLastUserStopsAnOrphan(t *testing.T) {
	dir := tempDir(t, 0o755)
	c := &Cluster{Dir: filepath.Join(dir, "pg"), Fast: true}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Detach() // the starter's process died; its server did not
	other := &Cluster{Dir: c.Dir}
	if err := other.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ping(t, other)
	if err := other.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := tryPing(other); err == nil {
		t.Error("the orphaned server still answers after its last user stopped")
	}
}

func TestUnreachableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to another system user")
	}
	dir := tempDir(t, 0o700)
	c := &Cluster{Dir: filepath.Join(dir, "pg")}
	if err := c.Prepare(); err != nil {
		t.Fatal(err)
	}
	if got := c.Unreachable(); got != dir {
		t.Errorf("Unreachable() = %q, want %q", got, dir)
	}
	if err := c.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("Start in an unreachable dir: %v", err)
	}
}

func ping(t *testing.T, c *Cluster) {
	t.Helper()
	if err := tryPing(c); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func tryPing(c *Cluster) error {
	db, err := sql.Open("postgres", c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

// tempDir makes a directory with mode directly under the system temp dir
// (t.TempDir nests it in a 0700 parent, closed to the postgres user).
func tempDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fp-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, mode)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
