package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetprompt/handlers"
	"fleetprompt/jobs"
	"fleetprompt/static"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
	"fleetprompt/views"
)

// forumSite is a site whose handlers can request forum moderation
// directives, and which runs a job runner per tenant on demand so tests
// can wait for a directive to finish.
type forumSite struct {
	*site
	dirs   *store.Directives
	log    *slog.Logger
	events chan jobs.Event
}

func newForumSite(t *testing.T) *forumSite {
	t.Helper()
	st := storetest.Store(t)
	assets, err := static.Load()
	if err != nil {
		t.Fatal(err)
	}
	rend, err := views.New(assets, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dirs := store.NewDirectives(st, log)
	store.RegisterForumDirectives(dirs)
	h := handlers.New(handlers.Config{Store: st, Directives: dirs, Views: rend, Assets: assets, Logger: log,
		SessionSecret: []byte("test-secret-test-secret-test-secret")})
	srv := httptest.NewServer(h.Routes())
	t.Cleanup(srv.Close)
	return &forumSite{site: &site{t: t, srv: srv, store: st}, dirs: dirs, log: log, events: make(chan jobs.Event, 1000)}
}

// runJobs starts a job runner limited to one tenant (so parallel tests
// never take each other's jobs), stopped at cleanup.
func (fs *forumSite) runJobs(slug string) {
	t := fs.t
	t.Helper()
	r := jobs.New(fs.store.DB, jobs.Config{DSN: storetest.DSN(), Tenants: []string{"org_" + slug}, PollInterval: 50 * time.Millisecond,
		Logger: fs.log, OnEventFunc: func(e jobs.Event) {
			select {
			case fs.events <- e:
			default: // nobody waiting: the next status read sees the outcome
			}
		}})
	fs.dirs.RegisterJobs(r)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.Stop(ctx)
	})
}

// tenantOf is the store handle of an organization by slug.
func (fs *forumSite) tenantOf(slug string) store.Tenant {
	fs.t.Helper()
	org, err := fs.store.OrganizationBySlug(ctx, slug)
	if err != nil {
		fs.t.Fatal(err)
	}
	return org.Tenant()
}

// waitDirectives waits until every directive about subject has finished
// and returns them, oldest first. It wakes on the runner's events.
func (fs *forumSite) waitDirectives(slug string, subject store.Subject) []store.Directive {
	t := fs.t
	t.Helper()
	tn := fs.tenantOf(slug)
	timeout := time.After(15 * time.Second)
	for {
		ds, err := fs.store.DirectivesBySubjects(ctx, tn, []store.Subject{subject}, 100)
		if err != nil {
			t.Fatal(err)
		}
		done := true
		for _, d := range ds {
			done = done && d.Finished()
		}
		if done {
			return ds
		}
		select {
		case <-fs.events:
		case <-time.After(100 * time.Millisecond): // a finish before we listened
		case <-timeout:
			t.Fatalf("directives about %v unfinished: %+v", subject, ds)
		}
	}
}

// addMember makes the user of email a member with role of org slug, and
// switches their session (client c) to it.
func (fs *forumSite) addMember(c *client, slug, email, role string) {
	fs.t.Helper()
	if _, err := fs.store.DB.ExecContext(ctx, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		SELECT o.id, u.id, $3, 'active' FROM organizations o, users u WHERE o.slug = $1 AND lower(u.email) = $2`, slug, email, role); err != nil {
		fs.t.Fatal(err)
	}
	wantStatus(fs.t, c.post("/org/select", url.Values{"slug": {slug}}), http.StatusSeeOther)
}

// forumOrg is an organization with an owner client, a category and a
// thread with one reply.
type forumOrg struct {
	slug     string
	owner    *client
	catID    string
	catSlug  string
	threadID string
	postID   string // the reply
}

func (fs *forumSite) newForumOrg(prefix string) *forumOrg {
	t := fs.t
	t.Helper()
	o := &forumOrg{slug: storetest.Name(prefix), owner: fs.client()}
	o.owner.register(o.slug)
	o.catSlug = "cat-" + o.slug
	r := o.owner.post("/forums/categories", url.Values{"name": {"Cat " + o.slug}, "slug": {o.catSlug}, "description": {"About things"}})
	wantStatus(t, r, http.StatusSeeOther)
	cat, err := fs.store.ForumCategoryBySlug(ctx, fs.tenantOf(o.slug), o.catSlug)
	if err != nil {
		t.Fatal(err)
	}
	o.catID = cat.ID
	r = o.owner.post("/forums/threads", url.Values{"category_id": {cat.ID}, "title": {"Thread of " + o.slug}, "body": {"Opening **post**"}})
	wantStatus(t, r, http.StatusSeeOther)
	o.threadID = strings.TrimPrefix(r.Header.Get("Location"), "/forums/t/")
	r = o.owner.post("/forums/t/"+o.threadID+"/replies", url.Values{"body": {"First reply of " + o.slug}})
	wantStatus(t, r, http.StatusSeeOther)
	loc := r.Header.Get("Location")
	o.postID = loc[strings.Index(loc, "#post-")+len("#post-"):]
	return o
}
