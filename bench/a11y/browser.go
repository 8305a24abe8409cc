package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// browser is one headless Chromium with two tabs sharing its cookies: js
// runs scripts (axe, htmx), nojs has them disabled, as a visitor without
// JavaScript.
type browser struct {
	path     string
	js, nojs context.Context
	close    func()
}

func newBrowser(work string) (*browser, error) {
	path := ""
	for _, p := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if full, err := exec.LookPath(p); p != "" && err == nil {
			path = full
			break
		}
	}
	if path == "" {
		return nil, fmt.Errorf("chromium not found (Debian: apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(filepath.Join(work, "chromium")),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	js, cancelJS := chromedp.NewContext(actx)
	if err := chromedp.Do(js); err != nil {
		cancelA()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	nojs, cancelNoJS := chromedp.NewContext(js)
	b := &browser{path: path, js: js, nojs: nojs, close: func() { cancelNoJS(); cancelJS(); cancelA() }}
	// axe is injected by the inspector: the app's CSP forbids inline script.
	if _, err := chromedp.Call(js, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: true}); err != nil {
		return nil, err
	}
	if _, err := chromedp.Call(nojs, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		return nil, err
	}
	return b, nil
}

// step runs actions in a tab, bounded to 30 s.
func step(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return chromedp.Do(sctx, actions...)
}

// eval evaluates a script in the JS tab (awaiting a promise) into T.
func eval[T any](ctx context.Context, script string) (T, error) {
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return chromedp.Run(sctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
}

// signIn signs the browser in as the demo owner.
func (b *browser) signIn(base string) error {
	return step(b.js,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), "admin@demo.com"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label=Main]`)),
	)
}

// cookieHeader is the signed-in session as a Cookie header (Lighthouse
// runs its own Chromium).
func (b *browser) cookieHeader(base string) (string, error) {
	res, err := chromedp.Call(b.js, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		return "", err
	}
	var parts []string
	for _, c := range res.Cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; "), nil
}
