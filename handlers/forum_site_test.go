package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/executor"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// forumSite is a site whose handlers can request forum moderation
// directives, and which runs a job runner per tenant on demand so tests
// can wait for a directive to finish.
type forumSite struct{ *site }

func newForumSite(t *testing.T) *forumSite {
	t.Helper()
	return &forumSite{startSite(t, siteConfig{directives: executor.Forum})}
}

// newLiveForumSite is newForumSite with a live hub, as the app runs: the
// thread cache keeps whole pages, shared by every viewer of a thread.
func newLiveForumSite(t *testing.T) *forumSite {
	t.Helper()
	return &forumSite{startSite(t, siteConfig{directives: executor.Forum, live: true, writeTimeout: 2 * time.Second})}
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
