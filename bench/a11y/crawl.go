package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/chromedp/chromedp"
)

// page is one checked page and what the checkers said of it.
type page struct {
	Path     string
	Anon     bool
	State    string // a page state reached by an action ("failed sign-in"), not a plain GET
	Status   int
	From     string // the page whose link led here
	File     string // the HTML as the server sent it, for the Nu checker
	Axe      []violation
	Nu       []string // Nu errors, htmx attributes left out
	NuHtmx   int      // Nu errors about htmx's own attributes
	Header   [2]float64
	Overflow int    // px the 390-px page is wider than the screen
	Wide     string // what sticks out
	LH       float64
	LHFailed []string
}

// skip lists what is not a page to look at.
var skip = regexp.MustCompile(`^/(static/|events|logout|healthz|api/|.*\.json$)|/export\b|[?&]format=json`)

// idSegment turns /forums/t/<uuid> and /agents/12 into one shape, so a
// hundred threads are one page to check, not a hundred.
var idSegment = regexp.MustCompile(`/(\d+|[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{12,})(/|$)`)

func shape(u *url.URL) string {
	s := idSegment.ReplaceAllString(u.Path, "/:id$2")
	s = idSegment.ReplaceAllString(s, "/:id$2")
	var keys []string
	for k := range u.Query() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		s += "?" + strings.Join(keys, "&")
	}
	return s
}

// visitAll checks the anonymous pages, a few failed forms, then every page
// reachable from the dashboard signed in, one of each shape.
func visitAll(b *browser, c config, axeJS, htmlDir string) ([]*page, error) {
	if err := os.MkdirAll(htmlDir, 0o755); err != nil {
		return nil, err
	}
	v := &visitor{b: b, c: c, axeJS: axeJS, htmlDir: htmlDir, seen: map[string]bool{}, from: map[string]string{}}
	for _, p := range []string{"/", "/login", "/register", "/no-such-page"} {
		if err := v.visit(p, true, nil); err != nil {
			return nil, err
		}
	}
	if err := v.failedForms(); err != nil {
		return nil, err
	}
	if err := b.signIn(c.url); err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	queue := []string{"/dashboard", "/settings", "/orgs/new", "/admin/tenant", "/docs/api", "/forums/new", "/agents/new", "/workflows/new", "/forums/categories/new"}
	for _, p := range queue {
		u, _ := url.Parse(c.url + p)
		v.seen[shape(u)] = true
	}
	for len(queue) > 0 && len(v.pages) < c.max {
		p := queue[0]
		queue = queue[1:]
		links := []string{}
		if err := v.visit(p, false, &links); err != nil {
			return nil, err
		}
		for _, l := range links {
			u, err := url.Parse(l)
			if err != nil || u.Host != strings.TrimPrefix(c.url, "http://") || skip.MatchString(u.RequestURI()) {
				continue
			}
			u.Fragment = ""
			if sh := shape(u); !v.queued(sh) {
				queue = append(queue, u.RequestURI())
				v.from[u.RequestURI()] = p
			}
		}
	}
	return v.pages, nil
}

type visitor struct {
	b       *browser
	c       config
	axeJS   string
	htmlDir string
	seen    map[string]bool   // shapes queued or visited
	from    map[string]string // path → the page that linked to it
	pages   []*page
}

func (v *visitor) queued(sh string) bool {
	if v.seen[sh] {
		return true
	}
	v.seen[sh] = true
	return false
}

// visit loads path in the JS tab, saves its HTML, runs axe, measures it at
// both widths and takes the screenshots.
func (v *visitor) visit(path string, anon bool, links *[]string) error {
	u, _ := url.Parse(v.c.url + path)
	v.seen[shape(u)] = true
	resp, err := chromedp.Run(v.b.js, chromedp.NavigateResponse(v.c.url+path))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !strings.HasPrefix(resp.MimeType, "text/html") {
		return nil
	}
	p := &page{Path: path, Anon: anon, Status: int(resp.Status), From: v.from[path]}
	raw, err := eval[string](v.b.js, `fetch(location.href, {credentials: "same-origin"}).then(r => r.text())`)
	if err != nil {
		return fmt.Errorf("%s: html: %w", path, err)
	}
	if err := v.check(p, raw); err != nil {
		return err
	}
	if links != nil {
		*links, err = eval[[]string](v.b.js, `Promise.resolve(Array.from(document.querySelectorAll("a[href]"), a => a.href))`)
	}
	return err
}

// check runs every checker on the page loaded in the JS tab; raw is its
// HTML as the server sent it.
func (v *visitor) check(p *page, raw string) error {
	p.File = filepath.Join(v.htmlDir, fmt.Sprintf("%03d.html", len(v.pages)))
	if err := os.WriteFile(p.File, []byte(raw), 0o644); err != nil {
		return err
	}
	v.pages = append(v.pages, p)
	var err error
	if p.Axe, err = runAxe(v.b.js, v.axeJS); err != nil {
		return fmt.Errorf("%s: axe: %w", p.Path, err)
	}
	if err := measure(v.b, p, v.c.shots, len(v.pages)-1); err != nil {
		return fmt.Errorf("%s: %w", p.Path, err)
	}
	fmt.Printf("%-3d %-46s %3d  axe serious+critical %d (all %d)\n", len(v.pages)-1, label(p), p.Status, p.serious(), len(p.Axe))
	return nil
}

func label(p *page) string {
	s := p.Path
	if p.State != "" {
		s += " [" + p.State + "]"
	} else if p.Anon {
		s += " [signed out]"
	}
	return s
}

// failedForms submits forms wrongly with JavaScript (the htmx path) and
// checks the page they leave: focus on the first invalid field, errors
// tied to their fields.
func (v *visitor) failedForms() error {
	forms := []struct{ path, state, submit string }{
		{"/login", "failed sign-in", `form[action="/login"] button[type=submit]`},
		{"/register", "invalid registration", `#register-form button[type=submit]`},
	}
	for _, f := range forms {
		err := step(v.b.js,
			chromedp.Navigate(v.c.url+f.path),
			chromedp.WaitVisible(chromedp.CSS(f.submit)),
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("[required]").forEach(e => e.removeAttribute("required"))`),
			chromedp.Click(chromedp.CSS(f.submit)),
			chromedp.Sleep(700e6),
		)
		if err != nil {
			return fmt.Errorf("%s: %w", f.state, err)
		}
		html, err := eval[string](v.b.js, `Promise.resolve("<!doctype html>\n" + document.documentElement.outerHTML)`)
		if err != nil {
			return err
		}
		focus, _ := eval[string](v.b.js, `Promise.resolve(document.activeElement ? document.activeElement.tagName + "#" + document.activeElement.id : "")`)
		p := &page{Path: f.path, Anon: true, State: f.state + ", focus on " + focus, Status: 422}
		if err := v.check(p, html); err != nil {
			return err
		}
	}
	return nil
}
