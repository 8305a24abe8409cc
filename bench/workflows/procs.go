package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildApp compiles the app binary into dir, from the module root above
// the working directory; race builds it as the test suite's packages are
// built, so the go build cache makes it a link.
func buildApp(dir string, race bool) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := wd
	for ; root != "/"; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
	}
	bin := filepath.Join(dir, "fleetprompt")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build in %s: %w\n%s", root, err, out)
	}
	return bin, nil
}

// worker is one `fleetprompt worker` process, restartable after a kill
// with the same environment and log file.
type worker struct {
	name, bin, log string
	env            []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	ours   bool // the last exit was asked for (a kill or a stop)
	// crashed counts exits nobody asked for.
	crashed int
}

func (w *worker) start() error {
	f, err := os.OpenFile(w.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(w.bin, "worker")
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdout, cmd.Stderr = f, f
	// A group of its own: a Ctrl-C on the bench reaches it through us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	exited := make(chan struct{})
	w.mu.Lock()
	w.cmd, w.exited, w.ours = cmd, exited, false
	w.mu.Unlock()
	go func() {
		cmd.Wait()
		f.Close()
		w.mu.Lock()
		if !w.ours {
			w.crashed++
		}
		w.mu.Unlock()
		close(exited)
	}()
	return nil
}

func (w *worker) pid() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil || w.cmd.Process == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

// signal sends sig and waits (up to wait, then SIGKILL) for the exit.
func (w *worker) signal(sig syscall.Signal, wait time.Duration) {
	w.mu.Lock()
	cmd, exited := w.cmd, w.exited
	w.ours = true
	w.mu.Unlock()
	if cmd == nil || cmd.Process.Signal(sig) != nil {
		return
	}
	select {
	case <-exited:
	case <-time.After(wait):
		cmd.Process.Kill()
		<-exited
	}
}

// kill9 is the crash: no shutdown, no release of anything.
func (w *worker) kill9() { w.signal(syscall.SIGKILL, 10*time.Second) }

// stop is the orderly end a service manager asks for.
func (w *worker) stop() { w.signal(syscall.SIGTERM, 40*time.Second) }

func (w *worker) crashes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.crashed
}

// logTail is the end of the worker's log, for a failure's message.
func (w *worker) logTail(n int) string {
	b, _ := os.ReadFile(w.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cpuOf is the processor time of a process and its reaped children, from
// /proc (USER_HZ ticks: 10 ms steps).
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
		if i < len(f) {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += v
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// treeCPU is cpuOf a process plus each live child of it (a postmaster
// and its backends).
func treeCPU(root int) time.Duration {
	if root == 0 {
		return 0
	}
	total := cpuOf(root)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(root) {
			total += cpuOf(pid)
		}
	}
	return total
}
