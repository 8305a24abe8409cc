package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// browser is one signed-in person: a cookie jar (cookies ignore the
// port, so its session works on every serve process, as behind a load
// balancer) and no redirect following, so the 303s are seen.
type browser struct {
	http  *http.Client
	bases []string // the serve processes, tried in turn
	email string
}

func newBrowser(bases []string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{bases: bases, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// result is one answered request.
type result struct {
	status   int
	location string
	body     string
}

// do sends one request to base and reads the answer.
func (b *browser) do(method, base, path string, form url.Values, header ...string) (result, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		return result{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	return result{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(buf)}, nil
}

// base picks a serve process at random (a load balancer's choice).
func (b *browser) base() string { return b.bases[rand.IntN(len(b.bases))] }

// submit posts a form the way a person does when the page errors: the
// same form (same idempotency key, same text) again, on whichever server
// answers, until one does or until giveUp. tries counts the sends.
func (b *browser) submit(path string, form url.Values, giveUp time.Duration) (r result, tries int, err error) {
	deadline := time.Now().Add(giveUp)
	for {
		tries++
		r, err = b.do(http.MethodPost, b.base(), path, form)
		if err == nil && r.status != http.StatusServiceUnavailable && r.status != http.StatusBadGateway {
			return r, tries, nil
		}
		if time.Now().After(deadline) {
			return r, tries, err
		}
		time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
	}
}

// get fetches a page from any server that answers.
func (b *browser) get(path string) (result, error) {
	var last error
	for try := 0; try < 40; try++ {
		r, err := b.do(http.MethodGet, b.base(), path, nil)
		if err == nil && r.status < 500 {
			return r, nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("GET %s: %d", path, r.status)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return result{}, last
}

// register signs up a new organization through the register form.
func (b *browser) register(slug string) error {
	b.email = slug + "@faults.example"
	r, _, err := b.submit("/register", url.Values{"org_name": {"Faults " + slug}, "org_slug": {slug}, "name": {"Owner " + slug},
		"email": {b.email}, "password": {benchPassword}}, 30*time.Second)
	if err != nil {
		return err
	}
	if r.status != http.StatusSeeOther {
		return fmt.Errorf("register %s: %d %.200s", slug, r.status, r.body)
	}
	return nil
}

// login signs in (a new session) through the sign-in form.
func (b *browser) login(email string) error {
	b.email = email
	r, _, err := b.submit("/login", url.Values{"email": {email}, "password": {benchPassword}}, 30*time.Second)
	if err != nil {
		return err
	}
	if r.status != http.StatusSeeOther {
		return fmt.Errorf("login %s: %d %.200s", email, r.status, r.body)
	}
	return nil
}

const benchPassword = "password123"

var (
	optionRE = regexp.MustCompile(`<option value="([0-9a-f-]{36})"`)
	threadRE = regexp.MustCompile(`^/forums/t/([0-9a-f-]{36})`)
)

// newThread makes a category and a thread in it through the forms, and
// returns the thread's id.
func (b *browser) newThread() (string, error) {
	r, _, err := b.submit("/forums/categories", url.Values{"name": {"Faults"}, "slug": {"faults"}, "description": {"Fault injection"}}, 30*time.Second)
	if err != nil || r.status != http.StatusSeeOther {
		return "", fmt.Errorf("new category: %v %d %.200s", err, r.status, r.body)
	}
	page, err := b.get("/forums/new")
	if err != nil {
		return "", err
	}
	m := optionRE.FindStringSubmatch(page.body)
	if m == nil {
		return "", fmt.Errorf("no category in the new-thread form")
	}
	r, _, err = b.submit("/forums/threads", url.Values{"category_id": {m[1]}, "title": {"Faults on record"}, "body": {"Replies arrive here."}}, 30*time.Second)
	if err != nil || r.status != http.StatusSeeOther {
		return "", fmt.Errorf("new thread: %v %d %.200s", err, r.status, r.body)
	}
	t := threadRE.FindStringSubmatch(r.location)
	if t == nil {
		return "", fmt.Errorf("new thread redirected to %q", r.location)
	}
	return t[1], nil
}

// formKey finds the idempotency key of the form marked by marker (an
// attribute such as data-testid="install-form") in an HTML page: "" when
// the page has no such form, or the form no key.
func formKey(page, marker string) string {
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	if end := strings.Index(rest, "</form>"); end >= 0 {
		rest = rest[:end]
	}
	const attr = `name="idempotency_key" value="`
	j := strings.Index(rest, attr)
	if j < 0 {
		return ""
	}
	v := rest[j+len(attr):]
	return v[:strings.IndexByte(v, '"')]
}
