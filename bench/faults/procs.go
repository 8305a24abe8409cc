package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// build compiles the app once, from the module root, into dir.
func build(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "fleetprompt")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %w", err)
	}
	return bin, nil
}

func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no go.mod above %s: run from the repository", wd)
}

// app is one process of the app binary (serve or worker), restartable
// under the same port and log file after a kill.
type app struct {
	name string // "serve-a", "worker-1"
	cmd  string // "serve" or "worker"
	addr string // serve only
	env  []string
	bin  string
	log  string

	mu       sync.Mutex
	proc     *exec.Cmd
	exited   chan struct{}
	expected bool // the exit was ours (kill or stop)
	// unexpected counts exits nobody asked for (a crash of its own).
	unexpected int
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// start runs the process and, for serve, waits for /healthz to answer 200.
func (a *app) start() error {
	f, err := os.OpenFile(a.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(a.bin, a.cmd)
	cmd.Env = append(os.Environ(), a.env...)
	if a.addr != "" {
		cmd.Env = append(cmd.Env, "ADDR="+a.addr)
	}
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a Ctrl-C on the bench reaches it through
	// us, in order, not all at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	exited := make(chan struct{})
	a.mu.Lock()
	a.proc, a.exited, a.expected = cmd, exited, false
	a.mu.Unlock()
	go func() {
		cmd.Wait()
		f.Close()
		a.mu.Lock()
		if !a.expected {
			a.unexpected++
			fmt.Fprintf(os.Stderr, "bench/faults: %s exited by itself (see %s)\n", a.name, a.log)
		}
		a.mu.Unlock()
		close(exited)
	}()
	if a.cmd != "serve" {
		return nil
	}
	return waitHealthy("http://"+a.addr, 60*time.Second, exited)
}

// pid is the running process's id (0 when it is not running).
func (a *app) pid() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil || a.proc.Process == nil {
		return 0
	}
	return a.proc.Process.Pid
}

// signal sends sig and waits for the exit.
func (a *app) signal(sig syscall.Signal, wait time.Duration) error {
	a.mu.Lock()
	p, exited := a.proc, a.exited
	a.expected = true
	a.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.Process.Signal(sig); err != nil {
		return nil // already gone
	}
	select {
	case <-exited:
		return nil
	case <-time.After(wait):
		p.Process.Kill()
		<-exited
		return fmt.Errorf("%s did not exit within %s of %v", a.name, wait, sig)
	}
}

// kill9 is the crash: SIGKILL, no clean-up of any kind.
func (a *app) kill9() { a.signal(syscall.SIGKILL, 10*time.Second) }

// stop is the orderly end (SIGTERM, as a service manager sends).
func (a *app) stop() { a.signal(syscall.SIGTERM, 20*time.Second) }

func (a *app) unexpectedExits() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.unexpected
}

// waitHealthy polls /healthz until it answers 200.
func waitHealthy(base string, limit time.Duration, exited <-chan struct{}) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited while starting", base)
		default:
		}
		if r, err := c.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: no 200 from /healthz within %s", base, limit)
}

// fleet is every app process of the run.
type fleet struct {
	serves  []*app
	workers []*app
}

func newFleet(ctx context.Context, bin, dir, dsn string, serves, workers, perProcess int) (*fleet, error) {
	env := []string{"DATABASE_URL=" + dsn, "LOG_LEVEL=warn", fmt.Sprintf("WORKERS=%d", perProcess),
		"BCRYPT_COST=4", "DATA_DIR=" + filepath.Join(dir, "data"), "SESSION_SECRET=", "DIRECT_DATABASE_URL=", "DATABASE_POOLED=",
		"FORUM_POST_LIMIT=off"} // the clients post far faster than a person
	f := &fleet{}
	for i := range serves {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("serve-%c", 'a'+i)
		f.serves = append(f.serves, &app{name: name, cmd: "serve", addr: addr, env: env, bin: bin, log: filepath.Join(dir, name+".log")})
	}
	for i := range workers {
		name := fmt.Sprintf("worker-%d", i+1)
		f.workers = append(f.workers, &app{name: name, cmd: "worker", env: env, bin: bin, log: filepath.Join(dir, name+".log")})
	}
	for _, a := range f.all() {
		if err := a.start(); err != nil {
			f.stop()
			return nil, fmt.Errorf("start %s: %w", a.name, err)
		}
	}
	return f, nil
}

func (f *fleet) all() []*app { return append(append([]*app(nil), f.serves...), f.workers...) }

// urls are the serve processes' base URLs.
func (f *fleet) urls() []string {
	var out []string
	for _, s := range f.serves {
		out = append(out, "http://"+s.addr)
	}
	return out
}

func (f *fleet) stop() {
	var wg sync.WaitGroup
	for _, a := range f.all() {
		wg.Add(1)
		go func() { defer wg.Done(); a.stop() }()
	}
	wg.Wait()
}

func (f *fleet) unexpectedExits() (n int, who []string) {
	for _, a := range f.all() {
		if u := a.unexpectedExits(); u > 0 {
			n += u
			who = append(who, fmt.Sprintf("%s×%d", a.name, u))
		}
	}
	return n, who
}

// rssKiB is a process's resident memory.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kib)
			return kib
		}
	}
	return 0
}

// openFiles counts a process's file descriptors.
func openFiles(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}
