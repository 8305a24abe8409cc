package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestMarketplaceInstallThenUninstallWithPurge(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	slug := storetest.Name("mk")
	owner := ms.client()
	owner.register(slug)
	ms.runJobs(slug)
	pkg := ms.mktPackage("free", 2)

	r := owner.get("/marketplace?q=" + pkg)
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if got := text(d, "#install-"+pkg+" [data-testid=install-state]"); got != "Not installed" {
		t.Errorf("state before install %q", got)
	}
	key := installKey(t, r, pkg)
	if ret, _ := d.Find("#install-" + pkg + " form[data-testid=install-form] input[name=return_to]").Attr("value"); ret != "/marketplace?q="+pkg {
		t.Errorf("return_to %q", ret)
	}

	r = owner.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {key}, "return_to": {"/marketplace?q=" + pkg}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/marketplace?q="+pkg {
		t.Errorf("Location %q", loc)
	}
	// Re-sending the same form returns the same directive.
	wantStatus(t, owner.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {key}}), http.StatusSeeOther)
	ds := ms.waitPackage(slug, pkg)
	if len(ds) != 1 || ds[0].Status != store.DirectiveSucceeded {
		t.Fatalf("directives after a resent form: %+v", ds)
	}

	r = owner.get("/marketplace/" + pkg)
	wantStatus(t, r, http.StatusOK)
	d = r.doc(t)
	if got := text(d, "#install-"+pkg+" [data-testid=install-state]"); got != "Installed" {
		t.Errorf("state after install %q", got)
	}
	if got := text(d, "[data-testid=install-count]"); got != "1" {
		t.Errorf("install count %q", got)
	}
	if d.Find("#install-"+pkg+" [hx-trigger]").Length()+d.Find("#install-"+pkg+"[hx-trigger]").Length() != 0 {
		t.Error("a finished install must not poll")
	}
	if n := d.Find("[data-testid=includes-agents] li").Length(); n != 2 {
		t.Errorf("includes lists %d agents", n)
	}

	r = owner.get("/agents")
	wantStatus(t, r, http.StatusOK)
	// Package installs create their agents active (SPEC §12).
	if n := r.doc(t).Find(`[data-testid=agent-group][data-state=active] [data-testid=agent]`).Length(); n != 2 {
		t.Errorf("%d active agents listed, want 2", n)
	}

	checkUninstallWithPurge(t, ms, owner, slug, pkg)
}

// With htmx the install form swaps the status fragment in place, which
// polls itself while the directive is pending and stops once it is done.
func TestMarketplaceInstallWithHTMXPollsUntilDone(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	slug := storetest.Name("mkh")
	owner := ms.client()
	owner.register(slug)
	pkg := ms.mktPackage("free", 1)

	r := owner.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}, "return_to": {"/marketplace"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.Body, "<html") {
		t.Fatal("htmx must get the fragment only")
	}
	d := r.doc(t)
	frag := d.Find("#install-" + pkg)
	if frag.Length() != 1 {
		t.Fatalf("no #install-%s fragment:\n%s", pkg, r.Body)
	}
	if trig, _ := frag.Attr("hx-trigger"); trig != "every 1s" {
		t.Errorf("pending fragment hx-trigger %q", trig)
	}
	if get, _ := frag.Attr("hx-get"); get != "/marketplace/"+pkg+"/status?return_to=%2Fmarketplace" {
		t.Errorf("poll URL %q", get)
	}
	if frag.Find("form").Length() != 0 {
		t.Error("no install/uninstall forms while a directive is pending")
	}

	ms.runJobs(slug)
	ms.waitPackage(slug, pkg)
	r = owner.get("/marketplace/"+pkg+"/status?return_to=%2Fmarketplace", "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	frag = r.doc(t).Find("#install-" + pkg)
	if _, polling := frag.Attr("hx-trigger"); polling {
		t.Error("the finished fragment still polls")
	}
	if got := frag.AttrOr("data-state", ""); got != "installed" {
		t.Errorf("data-state %q", got)
	}
	if ret := frag.Find("input[name=return_to]").First().AttrOr("value", ""); ret != "/marketplace" {
		t.Errorf("return_to kept as %q", ret)
	}
}

func TestMarketplaceRefusals(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	slug := storetest.Name("mkr") // a new organization is on the free tier
	owner := ms.client()
	owner.register(slug)
	ms.runJobs(slug)

	pro := ms.mktPackage("pro", 4)
	r := owner.post("/marketplace/install", url.Values{"slug": {pro}, "idempotency_key": {storetest.Name("k")}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "#install-"+pro+" [data-testid=install-error]"); !strings.Contains(msg, "needs the pro tier") {
		t.Errorf("tier refusal message %q", msg)
	}
	if r.doc(t).Find("html").Length() == 0 {
		t.Error("a plain post gets the whole page with the message")
	}
	// htmx gets the fragment with the message.
	r = owner.post("/marketplace/install", url.Values{"slug": {pro}, "idempotency_key": {storetest.Name("k")}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "[data-testid=install-error]"); !strings.Contains(msg, "needs the pro tier") || strings.Contains(r.Body, "<html") {
		t.Errorf("htmx refusal: %q", r.Body)
	}

	// The agent limit: 3 agents, then 3 more is over the free tier's 3.
	starter, support := ms.mktPackage("free", 3), ms.mktPackage("free", 3)
	wantStatus(t, owner.post("/marketplace/install", url.Values{"slug": {starter}, "idempotency_key": {storetest.Name("k")}}), http.StatusSeeOther)
	if ds := ms.waitPackage(slug, starter); ds[0].Status != store.DirectiveSucceeded {
		t.Fatalf("starter: %+v", ds[0])
	}
	r = owner.post("/marketplace/install", url.Values{"slug": {support}, "idempotency_key": {storetest.Name("k")}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "[data-testid=install-error]"); !strings.Contains(msg, "limit of 3 agents") {
		t.Errorf("agent-limit message %q", msg)
	}

	hidden := ms.mktPackage("free", 1)
	ms.store.DB.ExecContext(ctx, `UPDATE packages SET is_published = false WHERE slug = $1`, hidden)
	r = owner.post("/marketplace/install", url.Values{"slug": {hidden}, "idempotency_key": {storetest.Name("k")}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "[data-testid=install-error]"); !strings.Contains(msg, "is not published") {
		t.Errorf("unpublished refusal %q", msg)
	}
	r = owner.post("/marketplace/install", url.Values{"slug": {hidden}, "idempotency_key": {storetest.Name("k")}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "[data-testid=install-error]"); !strings.Contains(msg, "is not published") {
		t.Errorf("unpublished refusal (htmx) %q", msg)
	}
	wantStatus(t, owner.post("/marketplace/install", url.Values{"slug": {"no-such-package"}, "idempotency_key": {"x"}}), http.StatusNotFound)
	wantStatus(t, owner.post("/marketplace/uninstall", url.Values{"slug": {"no-such-package"}, "idempotency_key": {"y"}}), http.StatusNotFound)
	r = owner.post("/marketplace/uninstall", url.Values{"slug": {support}, "idempotency_key": {storetest.Name("k")}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "[data-testid=install-error]"); !strings.Contains(msg, "is not installed") {
		t.Errorf("uninstall refusal %q", msg)
	}
}

// Two simultaneous install requests for one package (different keys, as
// from two browser tabs): one installation, no duplicate agents. A
// request judged after the other's install finished is refused (422,
// "installed already"); otherwise both directives run.
func TestMarketplaceConcurrentInstallRequests(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	slug := storetest.Name("mkc")
	owner := ms.client()
	owner.register(slug)
	ms.runJobs(slug)
	pkg := ms.mktPackage("free", 3)
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := owner.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}})
			switch {
			case r.StatusCode == http.StatusSeeOther:
				accepted.Add(1)
			case r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "installed already"):
				t.Errorf("install: %d", r.StatusCode)
			}
		}()
	}
	wg.Wait()
	ds := ms.waitPackage(slug, pkg)
	if accepted.Load() == 0 || len(ds) != int(accepted.Load()) {
		t.Fatalf("%d directives for %d accepted requests", len(ds), accepted.Load())
	}
	for _, d := range ds {
		if d.Status != store.DirectiveSucceeded {
			t.Errorf("directive %s: %s %s", d.ID, d.Status, d.LastError)
		}
	}
	tn := ms.tenant(slug)
	var agents, installs int
	ms.store.DB.Get(&agents, tn.SQL(`SELECT count(*) FROM {tenant}.agents WHERE package_slug = $1`), pkg)
	ms.store.DB.Get(&installs, tn.SQL(`SELECT count(*) FROM {tenant}.package_installations WHERE package_slug = $1`), pkg)
	if agents != 3 || installs != 1 {
		t.Errorf("%d agents and %d installations, want 3 and 1", agents, installs)
	}
}

// A member sees the install state but no forms, and is refused (403)
// when posting anyway.
func TestMarketplaceMemberSeesStateOnly(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	slug := storetest.Name("mkm")
	owner := ms.client()
	owner.register(slug)
	ms.runJobs(slug)
	pkg := ms.mktPackage("free", 1)
	wantStatus(t, owner.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}}), http.StatusSeeOther)
	ms.waitPackage(slug, pkg)

	member := ms.addMember(slug)
	r := member.get("/marketplace?q=" + pkg)
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if got := text(d, "#install-"+pkg+" [data-testid=install-state]"); got != "Installed" {
		t.Errorf("member sees %q", got)
	}
	if n := d.Find("#install-" + pkg + " form").Length(); n != 0 {
		t.Errorf("member sees %d install/uninstall forms", n)
	}
	wantStatus(t, member.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}}), http.StatusForbidden)
	wantStatus(t, member.post("/marketplace/uninstall", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}, "purge": {"1"}}), http.StatusForbidden)
	// A member may review.
	wantStatus(t, member.post("/marketplace/"+pkg+"/reviews", url.Values{"rating": {"4"}}), http.StatusSeeOther)
}

func TestMarketplaceSearchAndFilters(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	owner := ms.client()
	owner.register(storetest.Name("mks"))
	pro, free := ms.mktPackage("pro", 1), ms.mktPackage("free", 1)

	r := owner.get("/marketplace?q=" + pro)
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if n := d.Find("[data-testid=package]").Length(); n != 1 || d.Find(`[data-testid=package][data-slug="`+pro+`"]`).Length() != 1 {
		t.Errorf("search by name: %d results", n)
	}
	if v, _ := d.Find("#q").Attr("value"); v != pro {
		t.Errorf("the search box keeps the query: %q", v)
	}
	if d.Find("[data-testid=featured]").Length() != 0 {
		t.Error("a filtered view hides the featured section")
	}
	r = owner.get("/marketplace?tier=pro")
	d = r.doc(t)
	if d.Find(`[data-testid=package][data-slug="`+free+`"]`).Length() != 0 || d.Find(`[data-testid=package][data-slug="`+pro+`"]`).Length() != 1 {
		t.Error("tier=pro should list the pro package and not the free one")
	}
	if r.doc(t).Find(`#tier option[value=pro][selected]`).Length() != 1 {
		t.Error("the tier filter keeps its value")
	}
	r = owner.get("/marketplace?q=no-such-thing-at-all")
	if r.doc(t).Find("[data-testid=no-results]").Length() != 1 {
		t.Error("no-results message missing")
	}
	// htmx gets the results block only.
	r = owner.get("/marketplace?q="+pro, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="marketplace-results"`) {
		t.Errorf("htmx search should get the results fragment:\n%.500s", r.Body)
	}
	// A history restore wants the whole page.
	r = owner.get("/marketplace?q="+pro, "HX-Request", "true", "HX-History-Restore-Request", "true")
	if !strings.Contains(r.Body, "<html") {
		t.Error("a history restore must get the whole page")
	}
	// The page follows the installations topic from the seq it was rendered at.
	for _, path := range []string{"/marketplace", "/marketplace/" + pro} {
		live := owner.get(path).doc(t).Find("[data-testid=installs-live]")
		if src, _ := live.Attr("sse-connect"); !strings.HasPrefix(src, "/events?topic=installations&last_event_id=") {
			t.Errorf("%s: sse-connect %q", path, src)
		}
		if swap, _ := live.Find("[sse-swap]").Attr("sse-swap"); !strings.Contains(swap, "package.installation.installed") {
			t.Errorf("%s: sse-swap %q", path, swap)
		}
	}
	// The unfiltered page shows featured packages.
	if owner.get("/marketplace").doc(t).Find(`[data-testid=featured-package][data-slug="`+pro+`"]`).Length() != 1 {
		t.Error("featured package missing")
	}
}

func TestMarketplaceReviews(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	owner := ms.client()
	owner.register(storetest.Name("mkv"))
	pkg := ms.mktPackage("free", 1)

	r := owner.post("/marketplace/"+pkg+"/reviews", url.Values{"rating": {"5"}, "title": {"Lovely"}, "content": {"It works."}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/marketplace/"+pkg+"#reviews" {
		t.Errorf("Location %q", loc)
	}
	// The same user again: the review is replaced, not added.
	wantStatus(t, owner.post("/marketplace/"+pkg+"/reviews", url.Values{"rating": {"3"}, "title": {"Okay"}}), http.StatusSeeOther)
	d := owner.get("/marketplace/" + pkg).doc(t)
	if n := d.Find("[data-testid=review]").Length(); n != 1 {
		t.Errorf("%d reviews, want 1", n)
	}
	if got := text(d, "[data-testid=rating-count]"); got != "1" {
		t.Errorf("rating count %q", got)
	}
	if got := text(d, "[data-testid=rating-avg]"); got != "3.00" {
		t.Errorf("rating avg %q", got)
	}
	if !strings.Contains(text(d, "#review-form h3"), "Update your review") {
		t.Error("the form should offer to update the review")
	}
	if d.Find(`#review-form input[name=rating][value="3"][checked]`).Length() != 1 {
		t.Error("the form is prefilled with the review")
	}

	r = owner.post("/marketplace/"+pkg+"/reviews", url.Values{"rating": {"9"}, "title": {"Keep me"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d = r.doc(t)
	if msg := text(d, "#field-rating .error"); msg == "" {
		t.Error("no message for the rating")
	}
	if v, _ := d.Find("#title").Attr("value"); v != "Keep me" {
		t.Errorf("title not kept: %q", v)
	}
	r = owner.post("/marketplace/"+pkg+"/reviews", url.Values{"rating": {"0"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="review-form"`) {
		t.Error("htmx gets the review form fragment")
	}
	wantStatus(t, owner.post("/marketplace/no-such-package/reviews", url.Values{"rating": {"5"}}), http.StatusNotFound)
}

// Another organization's install state never shows, and unpublished or
// unknown packages are not found.
func TestMarketplaceIsolation(t *testing.T) {
	t.Parallel()
	ms := newMktSite(t)
	a, b := storetest.Name("mka"), storetest.Name("mkb")
	ownerA, ownerB := ms.client(), ms.client()
	ownerA.register(a)
	ownerB.register(b)
	ms.runJobs(a)
	pkg := ms.mktPackage("free", 1)
	wantStatus(t, ownerA.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}}), http.StatusSeeOther)
	ms.waitPackage(a, pkg)

	for _, path := range []string{"/marketplace?q=" + pkg, "/marketplace/" + pkg, "/marketplace/" + pkg + "/status"} {
		r := ownerB.get(path)
		wantStatus(t, r, http.StatusOK)
		if got := text(r.doc(t), "#install-"+pkg+" [data-testid=install-state]"); got != "Not installed" {
			t.Errorf("%s: org B sees %q", path, got)
		}
	}
	if n := ownerB.get("/agents").doc(t).Find("[data-testid=agent]").Length(); n != 0 {
		t.Errorf("org B lists %d agents", n)
	}
	// B cannot uninstall A's installation: B has none.
	wantStatus(t, ownerB.post("/marketplace/uninstall", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}}), http.StatusUnprocessableEntity)

	ms.store.DB.ExecContext(ctx, `UPDATE packages SET is_published = false WHERE slug = $1`, pkg)
	wantStatus(t, ownerA.get("/marketplace/"+pkg), http.StatusNotFound)
	wantStatus(t, ownerA.get("/marketplace/"+pkg+"/status"), http.StatusNotFound)
	wantStatus(t, ownerA.get("/marketplace/no-such-package"), http.StatusNotFound)

	visitor := ms.client()
	for _, path := range []string{"/marketplace", "/marketplace/" + pkg, "/marketplace/" + pkg + "/status", "/agents"} {
		r := visitor.get(path)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("visitor %s: %d %s", path, r.StatusCode, r.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/marketplace/install", "/marketplace/uninstall", "/marketplace/" + pkg + "/reviews"} {
		r := visitor.post(path, url.Values{"slug": {pkg}, "rating": {"5"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
			t.Errorf("visitor POST %s: %d %s", path, r.StatusCode, r.Header.Get("Location"))
		}
	}
}

// checkUninstallWithPurge: without JavaScript a purge asks on a page of
// its own first; confirmed, it removes the installation and the agents.
func checkUninstallWithPurge(t *testing.T, ms *mktSite, owner *client, slug, pkg string) {
	t.Helper()
	// Uninstall with purge removes the installation and the agents.
	r := owner.get("/marketplace/" + pkg)
	ukey, _ := r.doc(t).Find(`#install-` + pkg + ` form[data-testid=uninstall-form] input[name=idempotency_key]`).Attr("value")
	if ukey == "" {
		t.Fatalf("uninstall form without a key")
	}
	// Without JavaScript a purge asks first, on a page of its own that
	// deletes nothing; its button is the same form, confirmed.
	ask := owner.post("/marketplace/uninstall", url.Values{"slug": {pkg}, "idempotency_key": {ukey}, "purge": {"1"}, "return_to": {"/marketplace/" + pkg}})
	wantStatus(t, ask, http.StatusOK)
	confirm := ask.doc(t).Find(`[data-testid=uninstall-confirm] form`)
	if k, _ := confirm.Find(`input[name=idempotency_key]`).Attr("value"); k != ukey || confirm.Find(`input[name=confirmed][value="1"]`).Length() != 1 {
		t.Fatalf("confirm page form: key %q, html %s", k, ask.Body)
	}
	if ds := ms.waitPackage(slug, pkg); ds[len(ds)-1].Name == store.DirectivePackageUninstall {
		t.Fatalf("asking to confirm requested the uninstall: %+v", ds[len(ds)-1])
	}
	// An installed package is not offered, nor accepted, again.
	if n := r.doc(t).Find(`#install-` + pkg + ` form[data-testid=install-form]`).Length(); n != 0 {
		t.Errorf("installed package still offers %d install forms", n)
	}
	wantStatus(t, owner.post("/marketplace/install", url.Values{"slug": {pkg}, "idempotency_key": {storetest.Name("k")}}), http.StatusUnprocessableEntity)
	wantStatus(t, owner.post("/marketplace/uninstall", url.Values{"slug": {pkg}, "idempotency_key": {ukey}, "purge": {"1"}, "confirmed": {"1"}, "return_to": {"/marketplace/" + pkg}}), http.StatusSeeOther)
	ds := ms.waitPackage(slug, pkg)
	if last := ds[len(ds)-1]; last.Name != store.DirectivePackageUninstall || last.Status != store.DirectiveSucceeded {
		t.Fatalf("uninstall: %+v", last)
	}
	r = owner.get("/marketplace/" + pkg)
	if got := text(r.doc(t), "#install-"+pkg+" [data-testid=install-state]"); got != "Not installed" {
		t.Errorf("state after uninstall %q", got)
	}
	if n := r.doc(t).Find("#install-" + pkg + " form[data-testid=uninstall-form]").Length(); n != 0 {
		t.Error("uninstall offered for a package that is not installed")
	}
	if n := owner.get("/agents").doc(t).Find("[data-testid=agent]").Length(); n != 0 {
		t.Errorf("purge left %d agents", n)
	}
}
