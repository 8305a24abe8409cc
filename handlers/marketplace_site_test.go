package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/executor"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// mktSite is a site whose handlers request marketplace directives, with a
// job runner per tenant on demand so tests can wait for installs.
type mktSite struct{ *site }

func newMktSite(t *testing.T) *mktSite { return buildMktSite(t, false) }

// newLiveMktSite also runs the live hub, as the app does.
func newLiveMktSite(t *testing.T) *mktSite { return buildMktSite(t, true) }

func buildMktSite(t *testing.T, withLive bool) *mktSite {
	t.Helper()
	return &mktSite{startSite(t, siteConfig{directives: executor.Marketplace, live: withLive})}
}

func (ms *mktSite) tenant(slug string) store.Tenant {
	ms.t.Helper()
	org, err := ms.store.OrganizationBySlug(ctx, slug)
	if err != nil {
		ms.t.Fatal(err)
	}
	return org.Tenant()
}

// waitPackage waits until every install/uninstall directive about a
// package in org slug has finished, and returns them oldest first.
func (ms *mktSite) waitPackage(slug, pkg string) []store.Directive {
	t := ms.t
	t.Helper()
	tn := ms.tenant(slug)
	timeout := time.After(15 * time.Second)
	for {
		ds, err := ms.store.DirectivesBySubjects(ctx, tn, []store.Subject{{Type: "package", ID: pkg}}, 100)
		if err != nil {
			t.Fatal(err)
		}
		done := len(ds) > 0
		for _, d := range ds {
			done = done && d.Finished()
		}
		if done {
			return ds
		}
		select {
		case <-ms.events:
		case <-time.After(100 * time.Millisecond): // an outcome before we listened
		case <-timeout:
			t.Fatalf("directives about %s unfinished: %+v", pkg, ds)
		}
	}
}

// mktPackage adds a published package of its own (so parallel tests never
// share install counts) with n agents.
func (ms *mktSite) mktPackage(minTier string, n int) string {
	ms.t.Helper()
	slug := strings.ReplaceAll(storetest.Name("hpkg"), "_", "-")
	agents := make([]store.PackageAgent, n)
	for i := range agents {
		agents[i] = store.PackageAgent{Name: fmt.Sprintf("%s agent %d", slug, i+1), Description: "Does things.", SystemPrompt: fmt.Sprintf("You are agent %d.", i+1)}
	}
	inc, _ := json.Marshal(store.PackageIncludes{Agents: agents, Skills: []string{"web-research"}, Workflows: []store.PackageWorkflow{{Name: "Flow", Description: "A flow."}}, Tools: []string{}})
	if _, err := ms.store.DB.ExecContext(ctx, `INSERT INTO packages (name, slug, version, description, category, pricing_model, min_tier, includes, is_published, is_featured)
		VALUES ($1, $2, '1.0.0', $3, 'operations', 'free', $4, $5, true, true)`, "Package "+slug, slug, "Description of "+slug, minTier, inc); err != nil {
		ms.t.Fatal(err)
	}
	return slug
}

// addMember makes a new user a plain member of org slug and returns their
// client, acting in that org.
func (ms *mktSite) addMember(slug string) *client {
	ms.t.Helper()
	c := ms.client()
	own := storetest.Name("mem")
	c.register(own)
	if _, err := ms.store.DB.ExecContext(ctx, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		SELECT o.id, u.id, 'member', 'active' FROM organizations o, users u WHERE o.slug = $1 AND lower(u.email) = $2`, slug, own+"@example.com"); err != nil {
		ms.t.Fatal(err)
	}
	wantStatus(ms.t, c.post("/org/select", url.Values{"slug": {slug}}), http.StatusSeeOther)
	return c
}

// installForm reads the install form of a package from a page.
func installKey(t *testing.T, r *response, pkg string) string {
	t.Helper()
	key, ok := r.doc(t).Find(`#install-` + pkg + ` form[data-testid=install-form] input[name=idempotency_key]`).Attr("value")
	if !ok || key == "" {
		t.Fatalf("no install form for %s:\n%.3000s", pkg, r.Body)
	}
	return key
}
