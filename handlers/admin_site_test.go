package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"fleetprompt/jobs"
	"fleetprompt/jobs/directive"
	"fleetprompt/jobs/executor"
	"fleetprompt/jobs/signal"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// adminSite is a site wired like the app: directives (forum, marketplace
// and a test kind that fails on demand) and a signal bus with a handler
// that records deliveries, and a job runner per tenant on demand.
type adminSite struct {
	*site
	// flaky makes the adminTestKind executor fail while true.
	flaky atomic.Bool

	mu         sync.Mutex
	deliveries map[int64]int // signal seq → times delivered to the test handler
	delivered  chan int64
}

// adminTestKind is a directive kind only these tests request.
const adminTestKind = "admintest.flaky"

func newAdminSite(t *testing.T) *adminSite {
	t.Helper()
	st := storetest.Store(t)
	as := &adminSite{deliveries: map[int64]int{}, delivered: make(chan int64, 1000)}
	recorder := signal.Subscriber{Name: "admintest.recorder", Signals: []string{"member.*"},
		HandleFunc: func(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) error {
			for _, sig := range d.Signals {
				as.mu.Lock()
				as.deliveries[sig.Seq]++
				as.mu.Unlock()
				as.delivered <- sig.Seq
			}
			return nil
		}}
	flaky := directive.Kind{Name: adminTestKind, Title: "Fail on demand", Pending: "Flaky requested", Role: directive.RoleAdmin,
		Run: func(ctx context.Context, tx *sqlx.Tx, tn store.Tenant, dir store.Directive) (any, error) {
			if as.flaky.Load() {
				return nil, jobs.Permanent(errors.New("the flaky test executor failed on purpose"))
			}
			return map[string]any{"ok": true}, nil
		}}
	as.site = startSite(t, siteConfig{store: st, subscribers: []signal.Subscriber{recorder}, directives: func(st *store.Store) []directive.Kind {
		return append(append(executor.Forum(st), executor.Marketplace(st)...), flaky)
	}})
	return as
}

// waitDelivery waits until the test handler has had signal seq n times.
func (as *adminSite) waitDelivery(seq int64, n int) {
	as.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		as.mu.Lock()
		got := as.deliveries[seq]
		as.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-as.delivered:
		case <-timeout:
			as.t.Fatalf("signal %d delivered %d times, want %d", seq, got, n)
		}
	}
}

func (as *adminSite) deliveriesOf(seq int64) int {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.deliveries[seq]
}

func (as *adminSite) tenantOf(slug string) store.Tenant {
	as.t.Helper()
	org, err := as.store.OrganizationBySlug(ctx, slug)
	if err != nil {
		as.t.Fatal(err)
	}
	return org.Tenant()
}

// waitDirective waits until a directive has finished, waking on the
// runner's job events.
func (as *adminSite) waitDirective(slug, id string) store.Directive {
	as.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		d, err := as.store.Directive(ctx, as.tenantOf(slug), id)
		if err != nil {
			as.t.Fatal(err)
		}
		if d.Finished() {
			return d
		}
		select {
		case <-as.events:
		case <-time.After(100 * time.Millisecond): // an outcome before we listened
		case <-timeout:
			as.t.Fatalf("directive %s still %s", id, d.Status)
		}
	}
}

// adminOrg is an organization with its owner, an admin and a plain member,
// each a signed-in client acting in it.
type adminOrg struct {
	slug                 string
	owner, admin, member *client
	ownerID, adminID     int64
	memberID             int64
	adminEmail           string
	memberEmail          string
}

// newUser makes a user with no organization at all and returns their
// client, signed in, their email and id.
func (as *adminSite) newUser(prefix string) (*client, string, int64) {
	as.t.Helper()
	email := storetest.Name(prefix) + "@example.com"
	hash, err := bcrypt.GenerateFromPassword([]byte("password123"), bcrypt.MinCost)
	if err != nil {
		as.t.Fatal(err)
	}
	var id int64
	if err := as.store.DB.GetContext(ctx, &id, `INSERT INTO users (email, password_hash, name) VALUES ($1, $2, $3) RETURNING id`,
		email, string(hash), "User "+email[:len(email)-len("@example.com")]); err != nil {
		as.t.Fatal(err)
	}
	c := as.client()
	wantStatus(as.t, c.login(email, "password123"), http.StatusSeeOther)
	return c, email, id
}

func (as *adminSite) newAdminOrg(prefix string) *adminOrg {
	t := as.t
	t.Helper()
	o := &adminOrg{slug: storetest.Name(prefix), owner: as.client()}
	o.owner.register(o.slug)
	u, err := as.store.UserByEmail(ctx, o.slug+"@example.com")
	if err != nil {
		t.Fatal(err)
	}
	o.ownerID = u.ID
	o.admin, o.adminEmail, o.adminID = as.newUser("adm")
	o.member, o.memberEmail, o.memberID = as.newUser("mbr")
	for _, m := range []struct {
		c     *client
		email string
		role  string
	}{{o.admin, o.adminEmail, store.RoleAdmin}, {o.member, o.memberEmail, store.RoleMember}} {
		r := o.owner.post("/admin/members", url.Values{"email": {m.email}, "role": {m.role}})
		wantStatus(t, r, http.StatusSeeOther)
		wantStatus(t, m.c.post("/org/select", url.Values{"slug": {o.slug}}), http.StatusSeeOther)
	}
	return o
}

// insertAgent adds an agent in state to an organization.
func (as *adminSite) insertAgent(slug, name, state string) string {
	as.t.Helper()
	var id string
	err := as.store.DB.GetContext(ctx, &id, as.tenantOf(slug).SQL(`INSERT INTO {tenant}.agents (name, state) VALUES ($1, $2) RETURNING id`), name, state)
	if err != nil {
		as.t.Fatal(err)
	}
	return id
}

// insertInstallation adds an installation with status.
func (as *adminSite) insertInstallation(slug, pkg, status string) string {
	as.t.Helper()
	var id string
	err := as.store.DB.GetContext(ctx, &id, as.tenantOf(slug).SQL(`INSERT INTO {tenant}.package_installations
		(package_slug, package_version, package_name, status, enabled) VALUES ($1, '1.0.0', $2, $3, $3 <> 'disabled') RETURNING id`),
		pkg, "Package "+pkg, status)
	if err != nil {
		as.t.Fatal(err)
	}
	return id
}
