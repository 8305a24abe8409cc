package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"fleetprompt/store/storetest"
)

// from signs in as the client at addr, through a trusted proxy (the site
// must trust 127.0.0.1).
func (c *client) loginFrom(addr, email, password string) *response {
	return c.post("/login", url.Values{"email": {email}, "password": {password}}, "X-Forwarded-For", addr)
}

func throttledSite(t *testing.T) *site {
	return startSite(t, siteConfig{trustedProxies: []string{"127.0.0.1"}})
}

// clientAddr is an address no other test uses (the throttle's counts are
// shared by every site on the package's database, one per test process).
func clientAddr() string {
	n := lastClient.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n/65536%256, n/256%256, n%256)
}

var lastClient atomic.Int64

// Five wrong passwords for someone's email from one client used to lock
// that person out for 15 minutes. Now only that client waits; the owner,
// from anywhere else, signs in at once.
func TestSignInThrottleCannotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	s := throttledSite(t)
	slug := storetest.Name("lock")
	s.client().register(slug)
	email := slug + "@example.com"
	attacker, owner := clientAddr(), clientAddr()
	for i := 0; i < 5; i++ {
		wantStatus(t, s.client().loginFrom(attacker, email, "wrong-password"), http.StatusUnprocessableEntity)
	}
	r := s.client().loginFrom(attacker, email, "password123")
	wantStatus(t, r, http.StatusTooManyRequests)
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 2 {
		t.Errorf("Retry-After %q after five failures, want 1–2 seconds", r.Header.Get("Retry-After"))
	}
	if msg := text(r.doc(t), ".form-error"); msg == "" {
		t.Error("429 without a message on the form")
	}
	wantStatus(t, s.client().loginFrom(owner, email, "password123"), http.StatusSeeOther)
}

// Each failure past the free ones doubles the wait, counted from the last
// failure; once waited out, the right password gets in and clears them.
func TestSignInWaitsGrowInsteadOfLocking(t *testing.T) {
	t.Parallel()
	s := throttledSite(t)
	slug := storetest.Name("grow")
	s.client().register(slug)
	email, addr := slug+"@example.com", clientAddr()
	for i := 0; i < 5; i++ {
		s.client().loginFrom(addr, email, "wrong-password")
	}
	for _, want := range []int{2, 4, 8} {
		r := s.client().loginFrom(addr, email, "wrong-password")
		wantStatus(t, r, http.StatusTooManyRequests)
		if got := r.Header.Get("Retry-After"); got != strconv.Itoa(want) {
			t.Fatalf("Retry-After %s, want %d", got, want)
		}
		s.age(addr, want) // the wait passes
		wantStatus(t, s.client().loginFrom(addr, email, "wrong-password"), http.StatusUnprocessableEntity)
	}
	wantStatus(t, s.client().loginFrom(addr, email, "password123"), http.StatusTooManyRequests)
	s.age(addr, 16)
	wantStatus(t, s.client().loginFrom(addr, email, "password123"), http.StatusSeeOther)
	wantStatus(t, s.client().loginFrom(addr, email, "wrong-password"), http.StatusUnprocessableEntity)
	wantStatus(t, s.client().loginFrom(addr, email, "password123"), http.StatusSeeOther) // cleared: no wait
}

// age moves the failures of addr's keys secs seconds into the past.
func (s *site) age(addr string, secs int) {
	s.t.Helper()
	if _, err := s.store.DB.ExecContext(ctx, `UPDATE login_failures SET last_failed_at = last_failed_at - $2 * interval '1 second'
		WHERE key = 'ip:' || $1 OR key LIKE '%|ip:' || $1`, addr, secs); err != nil {
		s.t.Fatal(err)
	}
}

// Spraying many emails from one client slows that client down, for every
// account, while other clients are not affected.
func TestSignInSprayFromOneClientSlowsOnlyIt(t *testing.T) {
	t.Parallel()
	s := throttledSite(t)
	slug := storetest.Name("spray")
	s.client().register(slug)
	sprayer := clientAddr()
	for i := 0; i < 20; i++ {
		wantStatus(t, s.client().loginFrom(sprayer, fmt.Sprintf("nobody%d-%s@example.com", i, slug), "password123"), http.StatusUnprocessableEntity)
	}
	wantStatus(t, s.client().loginFrom(sprayer, slug+"@example.com", "password123"), http.StatusTooManyRequests)
	wantStatus(t, s.client().loginFrom(clientAddr(), slug+"@example.com", "password123"), http.StatusSeeOther)
}

// The counts live in PostgreSQL: guesses spread over two instances add up.
func TestSignInThrottleIsSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	a, b := throttledSite(t), throttledSite(t) // two handler sets, two pools, one database
	slug := storetest.Name("inst")
	a.client().register(slug)
	email, addr := slug+"@example.com", clientAddr()
	for i := 0; i < 5; i++ {
		site := []*site{a, b}[i%2]
		wantStatus(t, site.client().loginFrom(addr, email, "wrong-password"), http.StatusUnprocessableEntity)
	}
	wantStatus(t, a.client().loginFrom(addr, email, "wrong-password"), http.StatusTooManyRequests)
	wantStatus(t, b.client().loginFrom(addr, email, "wrong-password"), http.StatusTooManyRequests)
}

// A burst of parallel guesses cannot all slip under the limit: each
// attempt is counted before its password is checked.
func TestConcurrentGuessesAreCountedBeforeChecking(t *testing.T) {
	t.Parallel()
	s := throttledSite(t)
	slug := storetest.Name("burst")
	s.client().register(slug)
	email, addr := slug+"@example.com", clientAddr()
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.client().loginFrom(addr, email, "wrong-password")
			mu.Lock()
			counts[r.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts[http.StatusUnprocessableEntity] > 5 || counts[http.StatusTooManyRequests] < 15 {
		t.Errorf("20 parallel guesses: %v, want at most 5 checked (422), the rest 429", counts)
	}
}

// X-Forwarded-For and X-Real-IP are believed only from a trusted proxy:
// by default, a guesser changing them is still the one client it is.
func TestSignInThrottleIgnoresForwardedHeadersByDefault(t *testing.T) {
	t.Parallel()
	s := newSite(t) // TRUSTED_PROXIES unset
	slug := storetest.Name("xff")
	s.client().register(slug)
	for i := 0; i < 5; i++ {
		addr := fmt.Sprintf("198.51.100.%d", i+1)
		r := s.client().post("/login", url.Values{"email": {slug + "@example.com"}, "password": {"wrong-password"}},
			"X-Forwarded-For", addr, "X-Real-IP", addr)
		wantStatus(t, r, http.StatusUnprocessableEntity)
	}
	r := s.client().post("/login", url.Values{"email": {slug + "@example.com"}, "password": {"wrong-password"}},
		"X-Forwarded-For", "198.51.100.99", "X-Real-IP", "198.51.100.99")
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The owner's account is not locked: after the wait, it works (the
	// test takes the wait off by ageing the failures).
	s.age("127.0.0.1", 3)
	wantStatus(t, s.client().login(slug+"@example.com", "password123"), http.StatusSeeOther)
}
