package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"fleetprompt/bench/benchsite"
	"fleetprompt/store"
)

// person is one member with a page open: the starter of one thread.
type person struct {
	ID     int64
	Email  string
	Thread string
	client *http.Client
	// badges are the arrival times of their notification.created events.
	badges   chan time.Time
	received atomic.Int64
}

var transport = &http.Transport{MaxIdleConnsPerHost: 4096, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// seedPeople makes n members (a cheap password hash: logging in is not
// what is measured) and a thread started by each.
func seedPeople(ctx context.Context, site *benchsite.Site, n int) ([]*person, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(site.Password), bcrypt.MinCost)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID    int64  `db:"id"`
		Email string `db:"email"`
	}
	if err := site.Store.DB.SelectContext(ctx, &rows, `INSERT INTO users (email, password_hash, name)
		SELECT 'starter' || i || '-' || $1 || '@example.com', $2, 'Starter ' || i FROM generate_series(1, $3) i
		RETURNING id, email`, site.Tenant.Slug, string(hash), n); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	if _, err := site.Store.DB.ExecContext(ctx, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		SELECT $1, u, 'member', 'active' FROM unnest($2::bigint[]) u`, site.Tenant.OrgID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	cat, err := site.Store.ForumCategoryBySlug(ctx, site.Tenant, "bench")
	if err != nil {
		return nil, err
	}
	people := make([]*person, len(rows))
	for i, r := range rows {
		people[i] = &person{ID: r.ID, Email: r.Email, client: newClient(), badges: make(chan time.Time, 16)}
	}
	return people, parallel(8, people, func(p *person) error {
		th, _, err := site.Store.CreateForumThread(ctx, site.Tenant, p.ID, store.NewForumThread{CategoryID: cat.ID,
			Title: "Question of " + p.Email, Body: "Does anyone know?"})
		p.Thread = th.ID
		return err
	})
}

// openPages signs everyone in and opens their "me" stream, as the page's
// badge does.
func openPages(ctx context.Context, site *benchsite.Site, people []*person) error {
	return parallel(16, people, func(p *person) error {
		if err := signIn(site, p.client, p.Email); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, site.URL+"/events?topic=me", nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := p.client.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("%s: /events?topic=me: %d", p.Email, resp.StatusCode)
		}
		go p.read(resp)
		return nil
	})
}

// read records each badge event as it arrives.
func (p *person) read(resp *http.Response) {
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 4096)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if strings.TrimSpace(line) == "event: notification.created" {
			at := time.Now()
			p.received.Add(1)
			select {
			case p.badges <- at:
			default:
			}
		}
	}
}

func signIn(site *benchsite.Site, c *http.Client, email string) error {
	r, err := c.PostForm(site.URL+"/login", url.Values{"email": {email}, "password": {site.Password}})
	if err != nil {
		return err
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("login %s: %d", email, r.StatusCode)
	}
	r, err = c.PostForm(site.URL+"/org/select", url.Values{"slug": {site.Tenant.Slug}})
	if err != nil {
		return err
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("select organization %s: %d", email, r.StatusCode)
	}
	return nil
}

// parallel runs fn over people with w workers; the first error wins.
func parallel(w int, people []*person, fn func(*person) error) error {
	work := make(chan *person)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				if err := fn(p); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range people {
		work <- p
	}
	close(work)
	wg.Wait()
	return first
}
