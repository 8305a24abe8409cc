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

// startApp builds fleetprompt and runs `serve` on a fresh DATA_DIR: the app
// starts its own PostgreSQL and seeds the demo organization.
func startApp(work string) (stop func(), url string, err error) {
	bin := filepath.Join(work, "fleetprompt")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, "", fmt.Errorf("build: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.Create(filepath.Join(work, "app.log"))
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATA_DIR="+filepath.Join(work, "data"), "ADDR="+addr,
		"LOG_LEVEL=warn", "DATABASE_URL=", "BCRYPT_COST=4")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
		}
	}
	url = "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if r, err := http.Get(url + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return stop, url, nil
			}
		}
	}
	stop()
	log, _ := os.ReadFile(logf.Name())
	return nil, "", fmt.Errorf("app did not become healthy in 60 s:\n%s", log)
}
