// Command startup measures how fast `fleetprompt serve` comes up on an empty
// DATA_DIR (initdb, migrations, seed) and on a warm one, and, once idle,
// the resident memory of serve and, beside it, of the embedded
// PostgreSQL's processes (RSS and PSS, from /proc/<pid>/smaps_rollup).
//
//	go run ./bench/startup
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "fp-startup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// MkdirTemp makes 0700 directories, which the postgres system user (when
	// running as root) could not enter; open it like a normal checkout.
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "fleetprompt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	data := filepath.Join(dir, "data")

	cold, _, _, err := start(bin, data, false)
	if err != nil {
		return err
	}
	warm, app, pg, err := start(bin, data, true)
	if err != nil {
		return err
	}
	fmt.Printf("cold start (empty DATA_DIR → first 200 /healthz): %v (target ≤ 5s)\n", cold.Round(time.Millisecond))
	fmt.Printf("warm restart: %v (target ≤ 2s)\n", warm.Round(time.Millisecond))
	fmt.Printf("idle memory after 5 s: serve %s (RSS target ≤ 40 MiB) · postgres, %d processes: %s · together PSS %.1f MiB\n",
		app, pg.procs, pg, mib(app.pss+pg.pss))
	fmt.Printf("startup: cold=%.2fs warm=%.2fs idle_rss=%.1fMiB idle_pss=%.1fMiB pg_rss=%.1fMiB pg_pss=%.1fMiB pg_procs=%d\n",
		cold.Seconds(), warm.Seconds(), mib(app.rss), mib(app.pss), mib(pg.rss), mib(pg.pss), pg.procs)
	return nil
}

// start runs serve until /healthz answers 200, optionally waits for it to
// settle and reads its memory and its PostgreSQL's, then stops it with
// SIGINT and waits.
func start(bin, data string, measure bool) (took time.Duration, app, pg memory, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, app, pg, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATA_DIR="+data, "ADDR="+addr, "LOG_LEVEL=warn", "DATABASE_URL=")
	cmd.Stderr = os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, app, pg, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}()
	client := &http.Client{Timeout: time.Second}
	for {
		if time.Since(began) > 60*time.Second {
			return 0, app, pg, fmt.Errorf("no 200 from /healthz within 60 s")
		}
		r, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	took = time.Since(began)
	if !measure {
		return took, app, pg, nil
	}
	time.Sleep(5 * time.Second) // let start-up garbage be collected
	if app, err = processMemory(cmd.Process.Pid); err != nil {
		return 0, app, pg, err
	}
	if pg, err = postgresMemory(filepath.Join(data, "pg")); err != nil {
		return 0, app, pg, fmt.Errorf("embedded PostgreSQL's memory: %w", err)
	}
	return took, app, pg, nil
}
