// Package e2e drives the real fleetprompt binary with real headless
// Chromium. Nothing is mocked: the binary runs `serve` against the test
// harness's PostgreSQL, and the browser clicks through it like a person.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"fleetprompt/store/storetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "fleetprompt")
	build := exec.Command("go", "build", "-race", "-o", binary, "fleetprompt")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build:", err)
		os.Exit(2)
	}
	code := storetest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// app is one running `fleetprompt serve` process.
type app struct {
	URL string
	cmd *exec.Cmd
}

// startApp runs the binary on a free loopback port against the package's
// test database and waits until /healthz answers.
func startApp(t *testing.T, env ...string) *app {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+storetest.DSN(), "ADDR="+addr, "DATA_DIR="+t.TempDir(),
		"SESSION_SECRET=e2e-secret-e2e-secret-e2e-secret", "BCRYPT_COST=4", "LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	logf, _ := os.Create(filepath.Join(t.TempDir(), "app.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &app{URL: "http://" + addr, cmd: cmd}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("app log:\n%s", b)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(a.URL + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return a
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("app did not become healthy in 20 s")
	return nil
}

// browser starts a headless Chromium (one per call: separate cookies) and
// returns a tab context.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Fatal("chromium not found: install it (Debian: apt-get install chromium) — `make test` does this for you")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// The first action starts the browser; it must not run under the
	// timeout context (that would bound the browser's whole life).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func chromiumPath() string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if full, err := exec.LookPath(p); err == nil {
			return full
		}
	}
	return ""
}

// stepTimeout bounds each journey step: a loaded 2-core machine has taken
// more than 20 s.
const stepTimeout = 45 * time.Second

// do runs steps in the tab, each bounded by stepTimeout.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// clickLive clicks the first element matching css on a page that live
// swaps may change under the click: a swap between finding the node and
// clicking it ("No node with given id found") means the click never
// happened, so it is tried again on the new element.
func clickLive(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	var err error
	for try := 0; try < 20; try++ {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = chromedp.Do(sctx, chromedp.Click(chromedp.CSS(css)))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "node with given id") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("click %s: %v", css, err)
	}
}

// textOf returns the trimmed text of the first element matching css. A
// live swap can replace the element between finding and reading it (the
// protocol then answers "No node with given id found"), so it looks again
// a few times before failing.
func textOf(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	var err error
	for try := 0; try < 20; try++ {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var s string
		s, err = chromedp.Run(sctx, chromedp.Text(chromedp.CSS(css)))
		cancel()
		if err == nil {
			return strings.TrimSpace(s)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("text of %s: %v", css, err)
	return ""
}

// disableJS turns script execution off in the tab, as a browser with
// JavaScript disabled.
func disableJS(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
}
