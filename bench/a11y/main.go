// Command a11y looks at every page of FleetPrompt the way a customer and an
// auditor would: it starts the app on a fresh private database with the
// demo data (or uses -url), signs in as the demo owner, follows every link
// it finds, and on each page runs axe-core (WCAG 2.2 A/AA plus best
// practices) in headless Chromium, checks the HTML as sent with the W3C Nu
// Html Checker, measures the header and horizontal overflow at 1366 and
// 390 px, and optionally takes screenshots (JS on and off) and Lighthouse
// accessibility scores. It prints one line per page and the figures last.
//
//	make a11y                       # axe + Nu on every page
//	go run ./bench/a11y -shots /tmp/shots -lighthouse
//
// The checkers come from bench/a11y/package.json (npm ci) and Java (vnu.jar);
// `make deps-a11y` installs both.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

type config struct {
	url        string // an app already running; empty starts one
	shots      string // directory for screenshots; empty takes none
	lighthouse bool
	max        int    // pages at most
	tools      string // bench/a11y, where node_modules lives
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "", "base URL of a running app signed in as admin@demo.com / password123 (default: start one)")
	flag.StringVar(&c.shots, "shots", "", "write PNG screenshots (1366 and 390 px, JS on and off) to this directory")
	flag.BoolVar(&c.lighthouse, "lighthouse", false, "also run Lighthouse's accessibility audit on every page")
	flag.IntVar(&c.max, "max", 150, "check at most this many pages")
	flag.StringVar(&c.tools, "tools", "bench/a11y", "directory holding node_modules with axe-core, vnu-jar and lighthouse")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "a11y:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	axeJS, err := os.ReadFile(filepath.Join(c.tools, "node_modules/axe-core/axe.min.js"))
	if err != nil {
		return fmt.Errorf("axe-core missing (run `make deps-a11y`): %w", err)
	}
	work, err := os.MkdirTemp("", "fp-a11y-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	os.Chmod(work, 0o755) // the postgres system user must enter it when run as root
	if c.url == "" {
		stop, url, err := startApp(work)
		if err != nil {
			return err
		}
		defer stop()
		c.url = url
	}
	b, err := newBrowser(work)
	if err != nil {
		return err
	}
	defer b.close()
	pages, err := visitAll(b, c, string(axeJS), filepath.Join(work, "html"))
	if err != nil {
		return err
	}
	if err := nuCheck(c.tools, filepath.Join(work, "html"), pages); err != nil {
		return err
	}
	if c.lighthouse {
		if err := lighthouseAll(b, c, pages); err != nil {
			return err
		}
	}
	report(pages, c.lighthouse)
	return nil
}
