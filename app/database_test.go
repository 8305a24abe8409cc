package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"fleetprompt/store"
)

// The reported defect: `worker` (or replay, seed, migrate) run beside
// `serve` on one DATA_DIR adopted its PostgreSQL and stopped it on exit.
// Now the second command's exit leaves it running; the last one out stops it.
func TestSecondCommandLeavesTheServersDatabaseRunning(t *testing.T) {
	root, err := os.MkdirTemp("", "fp-app-db-") // reachable by the postgres user when we are root
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(root, 0o755)
	t.Cleanup(func() { os.RemoveAll(root) })
	cfg := Config{DataDir: filepath.Join(root, "data"), Workers: 1}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	serve, err := openDatabase(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	worker, err := openDatabase(ctx, cfg, log)
	if err != nil {
		serve.close(log)
		t.Fatal(err)
	}
	if !serve.created || worker.created {
		t.Errorf("created: serve %v, worker %v; want only the first", serve.created, worker.created)
	}
	worker.close(log)
	if err := serve.db.PingContext(ctx); err != nil {
		t.Fatalf("serve's database after the worker exited: %v", err)
	}
	dsn := serve.dsn
	serve.close(log)
	if db, err := store.Open(ctx, dsn, 1); err == nil {
		db.Close()
		t.Error("the server still runs after its last user exited")
	}
}
