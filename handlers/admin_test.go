package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"fleetprompt/store"
)

// adminRoute is one admin route with a request that exercises it.
type adminRoute struct {
	method, path string
	form         url.Values
}

// TestAdminRoleMatrix: every admin page and action refuses visitors (to
// sign-in) and plain members (403), and lets owners and admins through.
func TestAdminRoleMatrix(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("matrix")
	agent := as.insertAgent(o.slug, "Matrix agent", store.AgentDraft)
	inst := as.insertInstallation(o.slug, "matrix-pkg", store.InstallInstalled)
	routes := []adminRoute{
		{"GET", "/admin", nil},
		{"GET", "/admin/members", nil},
		{"POST", "/admin/members", url.Values{"email": {"nobody@example.com"}, "role": {"member"}}},
		{"POST", "/admin/members/" + strconv.FormatInt(o.memberID, 10), url.Values{"role": {"member"}}},
		{"GET", "/admin/agents", nil},
		{"POST", "/admin/agents/" + agent + "/transitions", url.Values{"action": {"pause"}}},
		{"GET", "/admin/skills", nil},
		{"GET", "/admin/installations", nil},
		{"POST", "/admin/installations/" + inst + "/enable", nil},
		{"POST", "/admin/installations/" + inst + "/disable", nil},
		{"GET", "/admin/signals", nil},
		{"POST", "/admin/signals/replay", url.Values{"from_seq": {"1"}, "to_seq": {"1000"}}},
		{"GET", "/admin/directives", nil},
		{"POST", "/admin/directives/00000000-0000-0000-0000-000000000000/retry", nil},
		{"POST", "/admin/directives/00000000-0000-0000-0000-000000000000/cancel", nil},
		{"GET", "/admin/jobs", nil},
		{"GET", "/admin/forums", nil},
	}
	visitor := as.client()
	send := func(c *client, r adminRoute) *response {
		if r.method == "GET" {
			return c.get(r.path)
		}
		return c.post(r.path, r.form)
	}
	for _, r := range routes {
		name := r.method + " " + r.path
		if got := send(visitor, r); got.StatusCode != http.StatusSeeOther || !strings.HasPrefix(got.Header.Get("Location"), "/login") {
			t.Errorf("visitor %s: %d %s, want 303 to /login", name, got.StatusCode, got.Header.Get("Location"))
		}
		if got := send(o.member, r); got.StatusCode != http.StatusForbidden {
			t.Errorf("member %s: %d, want 403", name, got.StatusCode)
		}
		for role, c := range map[string]*client{"admin": o.admin, "owner": o.owner} {
			got := send(c, r)
			switch got.StatusCode {
			case http.StatusOK, http.StatusSeeOther, http.StatusUnprocessableEntity, http.StatusNotFound:
			default:
				t.Errorf("%s %s: %d\n%.500s", role, name, got.StatusCode, got.Body)
			}
		}
	}
	// The member sees no admin link; the admin does.
	if n := as.docOf(o.member.get("/dashboard")).Find(`nav a[href="/admin"]`).Length(); n != 0 {
		t.Error("a plain member sees the Admin link")
	}
	if n := as.docOf(o.admin.get("/dashboard")).Find(`nav a[href="/admin"]`).Length(); n != 1 {
		t.Error("an admin does not see the Admin link")
	}
	// /admin/tenant: anyone who administers some organization; a user who
	// administers none is refused.
	wantStatus(t, o.member.get("/admin/tenant"), http.StatusForbidden)
	wantStatus(t, o.member.post("/admin/tenant", url.Values{"slug": {o.slug}}), http.StatusForbidden)
	wantStatus(t, o.admin.get("/admin/tenant"), http.StatusOK)
	if r := visitor.get("/admin/tenant"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("visitor /admin/tenant: %d", r.StatusCode)
	}
}

func (as *adminSite) docOf(r *response) *goquery.Document {
	as.t.Helper()
	return r.doc(as.t)
}

func TestAdminMembersAddChangeDisable(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("members")
	newbie, newbieEmail, newbieID := as.newUser("new")

	// Unknown email: 422, the form kept with its message.
	r := o.owner.post("/admin/members", url.Values{"email": {"ghost-" + o.slug + "@example.com"}, "role": {"member"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	d := r.doc(t)
	if msg := text(d, "#field-email .error"); !strings.Contains(msg, "register first") {
		t.Errorf("unknown email message %q", msg)
	}
	if v, _ := d.Find("#member-add input[name=email]").Attr("value"); v != "ghost-"+o.slug+"@example.com" {
		t.Errorf("input not kept: %q", v)
	}
	// Already a member: 422.
	r = o.owner.post("/admin/members", url.Values{"email": {o.memberEmail}, "role": {"member"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "#field-email .error"); !strings.Contains(msg, "already a member") {
		t.Errorf("duplicate message %q", msg)
	}
	// Added, back to the filtered view it came from.
	r = o.admin.post("/admin/members", url.Values{"email": {strings.ToUpper(newbieEmail)}, "role": {"member"}, "return_to": {"/admin/members?status=active"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/admin/members?status=active" {
		t.Errorf("redirect %q", loc)
	}
	d = o.admin.get("/admin/members?status=active").doc(t)
	row := d.Find(fmt.Sprintf(`[data-testid=member-row][data-user-id="%d"]`, newbieID))
	if row.Length() != 1 || text(d, fmt.Sprintf(`[data-user-id="%d"] [data-testid=member-role]`, newbieID)) != "member" {
		t.Fatalf("new member not listed")
	}
	// The new member works in the organization.
	wantStatus(t, newbie.post("/org/select", url.Values{"slug": {o.slug}}), http.StatusSeeOther)
	wantStatus(t, newbie.get("/dashboard"), http.StatusOK)

	// Change role (htmx: the page block comes back with the outcome).
	uid := strconv.FormatInt(newbieID, 10)
	r = o.admin.post("/admin/members/"+uid, url.Values{"role": {"admin"}, "return_to": {"/admin/members"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	d = r.doc(t)
	if d.Find("#admin-page").Length() != 1 || d.Find("header.top").Length() != 0 {
		t.Error("htmx answer is not the admin-page fragment")
	}
	if !strings.Contains(text(d, "[data-testid=admin-notice]"), "is an admin") {
		t.Errorf("notice %q", text(d, "[data-testid=admin-notice]"))
	}
	wantStatus(t, newbie.get("/admin"), http.StatusOK)

	// Disable: the next request is already outside the organization.
	wantStatus(t, o.owner.post("/admin/members/"+uid, url.Values{"status": {"disabled"}}), http.StatusSeeOther)
	r = newbie.get("/forums")
	wantStatus(t, r, http.StatusForbidden)
	if text(r.doc(t), "[data-testid=tenant-badge]") != "" {
		t.Error("a disabled member still shows the organization")
	}
	wantStatus(t, newbie.get("/admin"), http.StatusForbidden)
	// Re-enabled: back in.
	wantStatus(t, o.owner.post("/admin/members/"+uid, url.Values{"status": {"active"}}), http.StatusSeeOther)
	wantStatus(t, newbie.get("/forums"), http.StatusOK)

	// Every change left its signal.
	d = o.owner.get("/admin/signals?name=member.*&subject_type=user&subject_id=" + uid).doc(t)
	var names []string
	d.Find("[data-testid=signal-row]").Each(func(_ int, s *goquery.Selection) { names = append(names, s.AttrOr("data-name", "")) })
	want := []string{"member.enabled", "member.disabled", "member.role_changed", "member.added"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("signals %v, want %v", names, want)
	}

	// Foreign and malformed user ids are 404.
	other := as.newAdminOrg("othermem")
	wantStatus(t, o.owner.post("/admin/members/"+strconv.FormatInt(other.memberID, 10), url.Values{"role": {"admin"}}), http.StatusNotFound)
	wantStatus(t, o.owner.post("/admin/members/abc", url.Values{"role": {"admin"}}), http.StatusNotFound)
}

func TestAdminOwnerRules(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("owners")
	ownerID := strconv.FormatInt(o.ownerID, 10)

	// The last owner can be neither demoted nor disabled: 422 and a message.
	for _, form := range []url.Values{{"role": {"admin"}}, {"status": {"disabled"}}} {
		r := o.owner.post("/admin/members/"+ownerID, form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if msg := text(r.doc(t), "[data-testid=admin-notice]"); !strings.Contains(msg, "last active owner") {
			t.Errorf("%v: message %q", form, msg)
		}
	}
	// Admins may not make owners, nor touch them.
	wantStatus(t, o.admin.post("/admin/members/"+strconv.FormatInt(o.memberID, 10), url.Values{"role": {"owner"}}), http.StatusForbidden)
	wantStatus(t, o.admin.post("/admin/members/"+ownerID, url.Values{"status": {"disabled"}}), http.StatusForbidden)
	wantStatus(t, o.admin.post("/admin/members", url.Values{"email": {o.memberEmail}, "role": {"owner"}}), http.StatusForbidden)
	// Their page offers no owner controls.
	d := o.admin.get("/admin/members").doc(t)
	if d.Find(`#member-add option[value=owner]`).Length() != 0 {
		t.Error("admins are offered the owner role")
	}

	// Two owners demote each other at once: one wins, one owner remains.
	wantStatus(t, o.owner.post("/admin/members/"+strconv.FormatInt(o.adminID, 10), url.Values{"role": {"owner"}}), http.StatusSeeOther)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, p := range []struct {
		c      *client
		target int64
	}{{o.owner, o.adminID}, {o.admin, o.ownerID}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := p.c.post("/admin/members/"+strconv.FormatInt(p.target, 10), url.Values{"role": {"admin"}})
			codes[i] = req.StatusCode
		}()
	}
	wg.Wait()
	var owners int
	if err := as.store.DB.GetContext(ctx, &owners, `SELECT count(*) FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id
		WHERE o.slug = $1 AND m.role = 'owner' AND m.status = 'active'`, o.slug); err != nil {
		t.Fatal(err)
	}
	wins := 0
	for _, c := range codes {
		if c == http.StatusSeeOther {
			wins++
		}
	}
	if owners != 1 || wins != 1 {
		t.Errorf("codes %v, %d owners left; want one success and one owner", codes, owners)
	}
}

func TestAdminAgentsTransitions(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("agents")
	draft := as.insertAgent(o.slug, "Draft one", store.AgentDraft)
	active := as.insertAgent(o.slug, "Active one", store.AgentActive)

	d := o.admin.get("/admin/agents").doc(t)
	actions := func(id string) []string {
		var out []string
		d.Find(fmt.Sprintf(`[data-testid=agent-row][data-id="%s"] [data-testid=agent-action]`, id)).Each(func(_ int, s *goquery.Selection) {
			out = append(out, s.AttrOr("data-action", ""))
		})
		return out
	}
	if got := strings.Join(actions(draft), ","); got != "deploy" {
		t.Errorf("draft buttons %q", got)
	}
	if got := strings.Join(actions(active), ","); got != "pause,error" {
		t.Errorf("active buttons %q", got)
	}

	// Legal: 303 back to the filtered view, state moved, signal emitted.
	r := o.admin.post("/admin/agents/"+draft+"/transitions", url.Values{"action": {"deploy"}, "return_to": {"/admin/agents?state=draft"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/admin/agents?state=draft" {
		t.Errorf("redirect %q", loc)
	}
	a, err := as.store.AgentByID(ctx, as.tenantOf(o.slug), draft)
	if err != nil || a.State != store.AgentDeploying {
		t.Fatalf("agent %v %v", a.State, err)
	}
	// A return_to outside the section falls back to it.
	r = o.admin.post("/admin/agents/"+draft+"/transitions", url.Values{"action": {"activate"}, "return_to": {"https://evil.example/admin/agents"}})
	if loc := r.Header.Get("Location"); loc != "/admin/agents" {
		t.Errorf("redirect %q", loc)
	}

	// Illegal: 422 with the state machine's message, with or without htmx.
	r = o.admin.post("/admin/agents/"+active+"/transitions", url.Values{"action": {"resume"}, "return_to": {"/admin/agents"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "[data-testid=admin-notice]"); !strings.Contains(msg, "cannot resume an agent that is active") {
		t.Errorf("message %q", msg)
	}
	r = o.admin.post("/admin/agents/"+active+"/transitions", url.Values{"action": {"explode"}}, "HX-Request", "true")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "[data-testid=admin-notice]"); !strings.Contains(msg, "not an agent action") {
		t.Errorf("message %q", msg)
	}

	// Another organization's agent: 404.
	other := as.newAdminOrg("agentsb")
	foreign := as.insertAgent(other.slug, "Foreign", store.AgentDraft)
	wantStatus(t, o.admin.post("/admin/agents/"+foreign+"/transitions", url.Values{"action": {"deploy"}}), http.StatusNotFound)
	if f, _ := as.store.AgentByID(ctx, as.tenantOf(other.slug), foreign); f.State != store.AgentDraft {
		t.Error("the foreign agent moved")
	}
}

func TestAdminListsPageAndFilter(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("pages")
	want := map[string]bool{}
	for i := range 7 {
		state := store.AgentDraft
		if i%2 == 1 {
			state = store.AgentPaused
		}
		id := as.insertAgent(o.slug, fmt.Sprintf("Agent %d", i), state)
		if state == store.AgentDraft {
			want[id] = true
		}
	}
	// Page through the drafts two at a time by following the Next links.
	seen := map[string]bool{}
	path := "/admin/agents?state=draft&limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := o.admin.get(path)
		wantStatus(t, r, http.StatusOK)
		d := r.doc(t)
		d.Find("[data-testid=agent-row]").Each(func(_ int, s *goquery.Selection) {
			id := s.AttrOr("data-id", "")
			if seen[id] {
				t.Errorf("agent %s on two pages", id)
			}
			seen[id] = true
			if st := strings.TrimSpace(s.Find("[data-testid=agent-state]").Text()); st != "draft" {
				t.Errorf("filter let a %s agent through", st)
			}
		})
		path = d.Find("[data-testid=next-page]").AttrOr("href", "")
		if path != "" && !strings.Contains(path, "state=draft") {
			t.Errorf("next link lost the filter: %s", path)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("paged %d drafts, want %d", len(seen), len(want))
	}
	// An htmx filter request gets the page block only.
	r := o.admin.get("/admin/agents?state=paused", "HX-Request", "true")
	d := r.doc(t)
	if d.Find("html").Length() != 0 && d.Find("header.top").Length() != 0 {
		t.Error("htmx filter got the whole page")
	}
	if n := d.Find("[data-testid=agent-row]").Length(); n != 3 {
		t.Errorf("paused agents %d, want 3", n)
	}
	// A broken cursor is refused, not a 500.
	wantStatus(t, o.admin.get("/admin/agents?after=nonsense"), http.StatusUnprocessableEntity)
	wantStatus(t, o.admin.get("/admin/signals?after=-3"), http.StatusUnprocessableEntity)
	wantStatus(t, o.admin.get("/admin/signals?since=yesterday"), http.StatusUnprocessableEntity)

	// Members page through too.
	for range 3 {
		_, email, _ := as.newUser("pg")
		wantStatus(t, o.owner.post("/admin/members", url.Values{"email": {email}, "role": {"member"}}), http.StatusSeeOther)
	}
	total, path := 0, "/admin/members?limit=2"
	for path != "" {
		d := o.owner.get(path).doc(t)
		total += d.Find("[data-testid=member-row]").Length()
		path = d.Find("[data-testid=next-page]").AttrOr("href", "")
	}
	if total != 6 {
		t.Errorf("paged %d members, want 6", total)
	}
}

func TestAdminInstallationsEnableDisable(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("inst")
	installed := as.insertInstallation(o.slug, "alpha", store.InstallInstalled)
	failed := as.insertInstallation(o.slug, "beta", store.InstallFailed)

	d := o.admin.get("/admin/installations").doc(t)
	if d.Find(`[data-id="`+installed+`"] [data-testid=installation-disable]`).Length() != 1 {
		t.Error("no disable button on an installed package")
	}
	if d.Find(`[data-id="`+failed+`"] form`).Length() != 0 {
		t.Error("a failed installation offers a switch")
	}
	wantStatus(t, o.admin.post("/admin/installations/"+installed+"/disable", nil), http.StatusSeeOther)
	in, _ := as.store.InstallationBySlug(ctx, as.tenantOf(o.slug), "alpha")
	if in.Status != store.InstallDisabled || in.Enabled {
		t.Errorf("after disable: %s %v", in.Status, in.Enabled)
	}
	d = o.admin.get("/admin/installations?status=disabled").doc(t)
	if d.Find("[data-testid=installation-row]").Length() != 1 || d.Find("[data-testid=installation-enable]").Length() != 1 {
		t.Error("disabled filter or enable button wrong")
	}
	wantStatus(t, o.admin.post("/admin/installations/"+installed+"/enable", nil), http.StatusSeeOther)
	in, _ = as.store.InstallationBySlug(ctx, as.tenantOf(o.slug), "alpha")
	if in.Status != store.InstallInstalled || !in.Enabled {
		t.Errorf("after enable: %s %v", in.Status, in.Enabled)
	}
	wantStatus(t, o.admin.post("/admin/installations/"+failed+"/disable", nil), http.StatusUnprocessableEntity)
	other := as.newAdminOrg("instb")
	foreign := as.insertInstallation(other.slug, "gamma", store.InstallInstalled)
	wantStatus(t, o.admin.post("/admin/installations/"+foreign+"/disable", nil), http.StatusNotFound)
}

func TestAdminDirectivesRetryAndCancel(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("dirs")
	tn := as.tenantOf(o.slug)

	// A directive that fails for good, then is retried and succeeds.
	as.flaky.Store(true)
	as.runJobs(o.slug)
	failing, _, err := as.dirs.Request(ctx, tn, store.DirectiveRequest{Kind: adminTestKind, UserID: o.ownerID, MaxAttempts: 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := as.waitDirective(o.slug, failing.ID); d.Status != store.DirectiveFailed {
		t.Fatalf("directive %s, want failed", d.Status)
	}
	d := o.admin.get("/admin/directives?status=failed").doc(t)
	row := d.Find(`[data-testid=directive-row][data-id="` + failing.ID + `"]`)
	if row.Find("[data-testid=directive-retry]").Length() != 1 || !strings.Contains(row.Find("[data-testid=directive-error]").Text(), "failed on purpose") {
		t.Fatalf("failed directive row: %q", row.Text())
	}
	// The dashboard flags it for admins, not for members.
	if as.docOf(o.admin.get("/dashboard")).Find(`[data-testid=failed-directive][data-id="`+failing.ID+`"]`).Length() != 1 {
		t.Error("dashboard does not flag the failed directive for an admin")
	}
	if as.docOf(o.member.get("/dashboard")).Find("[data-testid=failed-directives]").Length() != 0 {
		t.Error("a member is shown failed directives")
	}
	as.flaky.Store(false)
	r := o.admin.post("/admin/directives/"+failing.ID+"/retry", url.Values{"return_to": {"/admin/directives?status=failed"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/admin/directives?status=failed" {
		t.Errorf("redirect %q", loc)
	}
	if d := as.waitDirective(o.slug, failing.ID); d.Status != store.DirectiveSucceeded {
		t.Fatalf("retried directive %s, want succeeded", d.Status)
	}
	// Retrying a succeeded directive is refused with a message.
	r = o.admin.post("/admin/directives/"+failing.ID+"/retry", nil)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if msg := text(r.doc(t), "[data-testid=admin-notice]"); !strings.Contains(msg, "only a failed one") {
		t.Errorf("message %q", msg)
	}

	// Cancel: a requested directive in an organization without workers.
	q := as.newAdminOrg("dirsq")
	waiting, _, err := as.dirs.Request(ctx, as.tenantOf(q.slug), store.DirectiveRequest{Kind: adminTestKind, UserID: q.ownerID}, true)
	if err != nil {
		t.Fatal(err)
	}
	d = q.owner.get("/admin/directives?status=requested&kind=" + adminTestKind).doc(t)
	if d.Find(`[data-id="`+waiting.ID+`"] [data-testid=directive-cancel]`).Length() != 1 {
		t.Fatal("no cancel button on a requested directive")
	}
	r = q.owner.post("/admin/directives/"+waiting.ID+"/cancel", nil, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if got, _ := as.store.Directive(ctx, as.tenantOf(q.slug), waiting.ID); got.Status != store.DirectiveCanceled {
		t.Errorf("after cancel: %s", got.Status)
	}
	wantStatus(t, q.owner.post("/admin/directives/"+waiting.ID+"/cancel", nil), http.StatusUnprocessableEntity)
	// Another organization's directive: 404.
	wantStatus(t, q.owner.post("/admin/directives/"+failing.ID+"/retry", nil), http.StatusNotFound)
	wantStatus(t, q.owner.post("/admin/directives/not-a-uuid/cancel", nil), http.StatusNotFound)
}

func TestAdminSignalReplayRedelivers(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("replay") // two member.added signals
	as.runJobs(o.slug)
	tn := as.tenantOf(o.slug)
	sigs, err := as.store.ListSignals(ctx, tn, store.SignalFilter{Name: "member.added"})
	if err != nil || len(sigs.Signals) != 2 {
		t.Fatalf("member.added signals: %v %v", sigs.Signals, err)
	}
	first, second := sigs.Signals[1].Seq, sigs.Signals[0].Seq
	as.waitDelivery(first, 1)
	as.waitDelivery(second, 1)

	// One signal, through the row's form as the page renders it.
	form := o.admin.get("/admin/signals?name=member.*").doc(t).Find(`form:has([data-testid=signal-replay])`).FilterFunction(func(_ int, f *goquery.Selection) bool {
		return f.Find(`input[name=seq]`).AttrOr("value", "") == strconv.FormatInt(first, 10)
	})
	if form.Length() != 1 || form.AttrOr("action", "") != "/admin/signals/replay" {
		t.Fatalf("no replay form for signal %d", first)
	}
	r := o.admin.post("/admin/signals/replay", url.Values{"seq": {strconv.FormatInt(first, 10)}, "return_to": {form.Find(`input[name=return_to]`).AttrOr("value", "")}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/admin/signals?name=member.*" {
		t.Errorf("redirect %q", loc)
	}
	as.waitDelivery(first, 2)
	if n := as.deliveriesOf(second); n != 1 {
		t.Errorf("the other signal was delivered %d times", n)
	}
	// A range, with htmx.
	r = o.admin.post("/admin/signals/replay", url.Values{"from_seq": {strconv.FormatInt(first, 10)}, "to_seq": {strconv.FormatInt(second, 10)}, "name": {"member.added"}},
		"HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if msg := text(r.doc(t), "[data-testid=admin-notice]"); !strings.Contains(msg, "Replayed 2 signal") {
		t.Errorf("notice %q", msg)
	}
	as.waitDelivery(first, 3)
	as.waitDelivery(second, 2)
	// The jobs page shows where the subscriber stands.
	sub := o.admin.get("/admin/jobs").doc(t).Find(`[data-testid=subscriber][data-name="admintest.recorder"]`)
	if sub.Length() != 1 || !strings.Contains(sub.Text(), "caught up") {
		t.Errorf("subscriber row %q", sub.Text())
	}
	// Bad ranges and unknown signals.
	wantStatus(t, o.admin.post("/admin/signals/replay", url.Values{"from_seq": {"9"}, "to_seq": {"3"}}), http.StatusUnprocessableEntity)
	wantStatus(t, o.admin.post("/admin/signals/replay", url.Values{"seq": {"999999999"}}), http.StatusNotFound)
}

func TestAdminJobsShowOnlyThisTenant(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	a := as.newAdminOrg("jobsa")
	b := as.newAdminOrg("jobsb")
	mark := func(slug, errText string) int64 {
		var id int64
		if err := as.store.DB.GetContext(ctx, &id, `INSERT INTO jobs (kind, tenant_schema, state, attempt, last_error, finalized_at)
			VALUES ('admintest.job', $1, 'discarded', 3, $2, now()) RETURNING id`, "org_"+slug, errText); err != nil {
			t.Fatal(err)
		}
		return id
	}
	aJob := mark(a.slug, "boom in "+a.slug)
	bJob := mark(b.slug, "boom in "+b.slug)
	r := a.admin.get("/admin/jobs")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if d.Find(fmt.Sprintf(`[data-testid=job-failure][data-id="%d"]`, aJob)).Length() != 1 || !strings.Contains(r.Body, "boom in "+a.slug) {
		t.Error("own failure missing")
	}
	if strings.Contains(r.Body, "boom in "+b.slug) || d.Find(fmt.Sprintf(`[data-id="%d"]`, bJob)).Length() != 0 {
		t.Error("another organization's job is shown")
	}
	if d.Find(`[data-testid=job-depth][data-kind="admintest.job"][data-state="discarded"]`).Length() != 1 {
		t.Error("depth by kind and state missing")
	}
	// Signals queue no jobs: subscribers read them from their cursors.
	if d.Find(`[data-testid=job-depth][data-kind="signal.fanout"]`).Length() != 0 {
		t.Error("a signal queued a fanout job")
	}
	d = a.admin.get("/admin/jobs?state=discarded").doc(t)
	if n := d.Find("[data-testid=job-row]").Length(); n != 1 {
		t.Errorf("discarded filter: %d rows", n)
	}
}

func TestAdminForumsModerationForms(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("forums")
	wantStatus(t, o.owner.post("/forums/categories", url.Values{"name": {"General"}, "slug": {"general"}}), http.StatusSeeOther)
	cat, err := as.store.ForumCategoryBySlug(ctx, as.tenantOf(o.slug), "general")
	if err != nil {
		t.Fatal(err)
	}
	r := o.member.post("/forums/threads", url.Values{"category_id": {cat.ID}, "title": {"Hello admins"}, "body": {"A post to moderate"}})
	wantStatus(t, r, http.StatusSeeOther)
	threadID := strings.TrimPrefix(r.Header.Get("Location"), "/forums/t/")

	d := o.admin.get("/admin/forums").doc(t)
	if d.Find(`[data-testid=category-row][data-slug=general] form[action="/forums/c/general/archive"]`).Length() != 1 {
		t.Error("no archive form")
	}
	lock := d.Find(`[data-testid=thread-row][data-id="` + threadID + `"] form[action="/forums/t/` + threadID + `/lock"]`)
	if lock.Length() != 1 || lock.Find("input[name=idempotency_key]").AttrOr("value", "") == "" {
		t.Fatal("no lock form with an idempotency key")
	}
	post := d.Find("[data-testid=post-row]")
	if post.Length() != 1 || post.Find(`form[action$="/hide"]`).Length() != 1 || post.Find(`form[action$="/delete"]`).Length() != 1 {
		t.Fatalf("post row: %q", post.Text())
	}
	// Keys are fresh per form: lock, unlock, lock again are three directives.
	k1 := lock.Find("input[name=idempotency_key]").AttrOr("value", "")
	k2 := o.admin.get("/admin/forums").doc(t).Find(`form[action="/forums/t/`+threadID+`/lock"] input[name=idempotency_key]`).AttrOr("value", "")
	if k1 == k2 {
		t.Error("idempotency keys repeat across renders")
	}
	// The form works: it requests the directive.
	wantStatus(t, o.admin.post("/forums/t/"+threadID+"/lock", url.Values{"idempotency_key": {k1}}), http.StatusSeeOther)
	ds, _ := as.store.DirectivesBySubjects(ctx, as.tenantOf(o.slug), []store.Subject{{Type: store.SubjectForumThread, ID: threadID}}, 10)
	if len(ds) != 1 || ds[0].Name != store.DirectiveThreadLock {
		t.Errorf("directives %+v", ds)
	}
	// Filters: hidden posts only (none yet).
	d = o.admin.get("/admin/forums?post_status=hidden").doc(t)
	if d.Find("[data-testid=post-row]").Length() != 0 {
		t.Error("post filter ignored")
	}
}

func TestDashboardFiguresAreTenantOnly(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	a := as.newAdminOrg("dasha")
	b := as.newAdminOrg("dashb")
	as.insertAgent(a.slug, "A1", store.AgentDraft)
	as.insertAgent(a.slug, "A2", store.AgentActive)
	for i := range 4 {
		as.insertAgent(b.slug, fmt.Sprintf("B%d", i), store.AgentDraft)
	}
	as.insertInstallation(b.slug, "bpkg", store.InstallInstalled)
	wantStatus(t, b.owner.post("/forums/categories", url.Values{"name": {"B cat"}, "slug": {"bcat"}}), http.StatusSeeOther)

	r := a.member.get("/dashboard")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	row := func(d *goquery.Document, card, key string) string {
		return text(d, `[data-testid=fig-`+card+`] [data-testid=fig-row][data-key=`+key+`] strong`)
	}
	if got := row(d, "agents", store.AgentDraft); got != "1" {
		t.Errorf("draft agents %q, want 1", got)
	}
	if got := row(d, "agents", store.AgentActive); got != "1" {
		t.Errorf("active agents %q, want 1", got)
	}
	if got := text(d, "[data-testid=fig-agents-total]"); got != "2" {
		t.Errorf("agents total %q, want 2", got)
	}
	// Nothing installed: no rows of zeros, the card says so instead.
	if got := text(d, "[data-testid=fig-installations-total]"); got != "0" || d.Find("[data-testid=fig-installations] [data-testid=fig-row]").Length() != 0 {
		t.Errorf("installations total %q, rows %d", got, d.Find("[data-testid=fig-installations] [data-testid=fig-row]").Length())
	}
	if got := text(d, "[data-testid=fig-forums-total]"); got != "0" {
		t.Errorf("posts %q", got)
	}
	d = b.member.get("/dashboard").doc(t)
	if got := row(d, "agents", store.AgentDraft); got != "4" {
		t.Errorf("B draft agents %q, want 4", got)
	}
	if got := row(d, "installations", store.InstallInstalled); got != "1" {
		t.Errorf("B installed %q, want 1", got)
	}
}

func TestAdminTenantSwitch(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	a := as.newAdminOrg("tena")
	b := as.newAdminOrg("tenb")
	// a's owner is a plain member of b; a's admin is b's admin too.
	for _, m := range []struct{ email, role string }{{a.slug + "@example.com", "member"}, {a.adminEmail, "admin"}} {
		wantStatus(t, b.owner.post("/admin/members", url.Values{"email": {m.email}, "role": {m.role}}), http.StatusSeeOther)
	}
	d := a.admin.get("/admin/tenant").doc(t)
	if d.Find("[data-testid=tenant-row]").Length() != 2 || d.Find(`[data-slug="`+a.slug+`"] [data-testid=tenant-current]`).Length() != 1 {
		t.Fatalf("tenant list: %q", text(d, "[data-testid=tenant-table]"))
	}
	r := a.admin.post("/admin/tenant", url.Values{"slug": {b.slug}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/admin" {
		t.Errorf("redirect %q", loc)
	}
	if got := text(a.admin.get("/admin").doc(t), "[data-testid=tenant-badge]"); got != "org_"+b.slug {
		t.Errorf("now in %q, want org_%s", got, b.slug)
	}
	// Only administered organizations: a plain membership is 403, none 404.
	d = a.owner.get("/admin/tenant").doc(t)
	if d.Find(`[data-slug="`+b.slug+`"]`).Length() != 0 {
		t.Error("an organization where the user is a member is listed")
	}
	wantStatus(t, a.owner.post("/admin/tenant", url.Values{"slug": {b.slug}}), http.StatusForbidden)
	c := as.newAdminOrg("tenc")
	wantStatus(t, a.owner.post("/admin/tenant", url.Values{"slug": {c.slug}}), http.StatusNotFound)
}

// The skills page shows the catalogue with this organization's state
// only: a skill enabled in another organization is "not enabled" here.
func TestAdminSkillsShowThisTenantsState(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o, other := as.newAdminOrg("skl"), as.newAdminOrg("sklb")
	slug := "skill-" + o.slug
	if _, err := as.store.DB.ExecContext(ctx, `INSERT INTO skills (name, slug, category, tools) VALUES ('Test Skill', $1, 'research', '{probe}')`, slug); err != nil {
		t.Fatal(err)
	}
	tn := as.tenantOf(o.slug)
	if _, err := as.store.DB.ExecContext(ctx, tn.SQL(`INSERT INTO {tenant}.tenant_skills (skill_slug, package_slug) VALUES ($1, 'starter-agents')`), slug); err != nil {
		t.Fatal(err)
	}
	row := `[data-testid=skill-row][data-slug="` + slug + `"] [data-testid=skill-state]`
	if got := text(o.admin.get("/admin/skills").doc(t), row); !strings.Contains(got, "enabled") || strings.Contains(got, "not enabled") || !strings.Contains(got, "starter-agents") {
		t.Errorf("own org: skill state %q", got)
	}
	if got := text(other.admin.get("/admin/skills").doc(t), row); got != "not enabled" {
		t.Errorf("other org: skill state %q, want not enabled", got)
	}
}
