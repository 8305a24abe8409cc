// Command startup measures how fast `fleetprompt serve` comes up on an empty
// DATA_DIR (initdb, migrations, seed) and on a warm one, and its idle
// resident memory (the embedded PostgreSQL's processes not counted).
//
//	go run ./bench/startup
package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

	cold, _, err := start(bin, data, false)
	if err != nil {
		return err
	}
	warm, rss, err := start(bin, data, true)
	if err != nil {
		return err
	}
	fmt.Printf("cold start (empty DATA_DIR → first 200 /healthz): %v (target ≤ 5s)\n", cold.Round(time.Millisecond))
	fmt.Printf("warm restart: %v (target ≤ 2s)\n", warm.Round(time.Millisecond))
	fmt.Printf("startup: cold=%.2fs warm=%.2fs idle_rss=%.1fMiB\n", cold.Seconds(), warm.Seconds(), float64(rss)/1024)
	return nil
}

// start runs serve until /healthz answers 200, optionally waits for it to
// settle and reads its RSS, then stops it with SIGINT and waits.
func start(bin, data string, measureRSS bool) (time.Duration, int64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATA_DIR="+data, "ADDR="+addr, "LOG_LEVEL=warn", "DATABASE_URL=")
	cmd.Stderr = os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}()
	client := &http.Client{Timeout: time.Second}
	for {
		if time.Since(began) > 60*time.Second {
			return 0, 0, fmt.Errorf("no 200 from /healthz within 60 s")
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
	took := time.Since(began)
	var rss int64
	if measureRSS {
		time.Sleep(5 * time.Second) // let start-up garbage be collected
		rss, err = rssKiB(cmd.Process.Pid)
		if err != nil {
			return 0, 0, err
		}
		fmt.Printf("idle RSS of serve after 5 s: %.1f MiB (target ≤ 40 MiB)\n", float64(rss)/1024)
	}
	return took, rss, nil
}

func rssKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kib)
			return kib, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
