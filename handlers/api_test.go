package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// apiClient calls the JSON API with one key.
type apiClient struct {
	s   *site
	key string
}

// call sends body (JSON, or "" for none) with headers in name, value pairs.
func (a apiClient) call(method, path, body string, headers ...string) *response {
	a.s.t.Helper()
	req, _ := http.NewRequest(method, a.s.srv.URL+path, strings.NewReader(body))
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.s.client().do(req)
}

func (a apiClient) on(s *site) apiClient { return apiClient{s: s, key: a.key} }

// decode reads a JSON answer into v.
func decode(t *testing.T, r *response, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("%s %s: %v in %s", r.Request.Method, r.Request.URL.Path, err, r.Body)
	}
}

type problemBody struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Errors map[string]string `json:"errors"`
}

// wantProblem checks a problem+json answer with status.
func wantProblem(t *testing.T, r *response, status int) problemBody {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s %s: Content-Type %q, want application/problem+json", r.Request.Method, r.Request.URL.Path, ct)
	}
	var p problemBody
	decode(t, r, &p)
	if p.Status != status || p.Title == "" || !strings.HasPrefix(p.Type, "/docs/api#problem-") {
		t.Fatalf("problem %+v", p)
	}
	return p
}

var apiKeyShape = regexp.MustCompile(`^fp_[A-Za-z0-9_-]{32,}$`)

// newAPIKey makes a key on the admin page and reads it from the page the
// form leads to.
func (c *client) newAPIKey(name, scope string) string {
	t := c.s.t
	t.Helper()
	r := c.post("/admin/api-keys", url.Values{"name": {name}, "scope": {scope}})
	wantStatus(t, r, http.StatusSeeOther)
	key := text(c.get(r.Header.Get("Location")).doc(t), "[data-testid=secret]")
	if !apiKeyShape.MatchString(key) {
		t.Fatalf("key %q is not fp_ and 32+ URL-safe characters", key)
	}
	return key
}

func TestAPIKeyShownOnceStoredHashedAndRevokedInEveryProcess(t *testing.T) {
	t.Parallel()
	one := startSite(t, siteConfig{directives: allKinds})
	two := startSite(t, siteConfig{store: one.store, directives: allKinds}) // another process, same database
	slug := storetest.Name("apikey")
	owner := one.client()
	owner.register(slug)
	key := owner.newAPIKey("CI", "read")
	if d := owner.get("/admin/api-keys").doc(t); d.Find("[data-testid=secret]").Length() != 0 {
		t.Fatal("the key is shown a second time")
	}
	var stored int
	if err := one.store.DB.GetContext(ctx, &stored, `SELECT count(*) FROM api_keys WHERE key_hash = $1 AND prefix <> $2 AND length(prefix) < 12`,
		store.HashAPIKey(key), key); err != nil || stored != 1 {
		t.Fatalf("stored hash: %d %v", stored, err)
	}
	org, _ := one.store.OrganizationBySlug(ctx, slug)
	if sigs, _ := one.store.LatestSignals(ctx, org.Tenant(), 5); len(sigs) == 0 || sigs[0].Name != "api_key.created" || strings.Contains(string(sigs[0].Payload), key) {
		t.Fatalf("signals after creating a key: %+v", sigs)
	}

	api := apiClient{s: two, key: key}
	wantStatus(t, api.call("GET", "/api/v1/signals", ""), http.StatusOK)
	if got := text(owner.get("/admin/api-keys").doc(t), "[data-testid=api-key-last-used]"); got == "never" {
		t.Error("last use not shown after a request")
	}
	row := owner.get("/admin/api-keys").doc(t).Find("[data-testid=api-key-row]")
	id, _ := row.Attr("data-id")
	wantStatus(t, owner.post("/admin/api-keys/"+id+"/revoke", url.Values{}), http.StatusSeeOther)
	// The other process has no cache to forget: the very next request fails.
	r := api.call("GET", "/api/v1/signals", "")
	wantProblem(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
	if sigs, _ := one.store.LatestSignals(ctx, org.Tenant(), 1); sigs[0].Name != "api_key.revoked" {
		t.Errorf("latest signal %s, want api_key.revoked", sigs[0].Name)
	}
	if owner.get("/admin/api-keys").doc(t).Find("[data-testid=api-key-revoked]").Length() != 1 {
		t.Error("the page does not show the key revoked")
	}
}

func TestAPIProblems(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteConfig{directives: allKinds})
	owner := s.client()
	owner.register(storetest.Name("apiprob"))
	read := apiClient{s: s, key: owner.newAPIKey("reader", "read")}
	write := apiClient{s: s, key: owner.newAPIKey("writer", "write")}

	wantProblem(t, apiClient{s: s}.call("GET", "/api/v1/packages", ""), http.StatusUnauthorized)
	wantProblem(t, apiClient{s: s, key: "fp_" + strings.Repeat("x", 43)}.call("GET", "/api/v1/packages", ""), http.StatusUnauthorized)
	// A session cookie is no key.
	r := owner.get("/api/v1/packages")
	wantProblem(t, r, http.StatusUnauthorized)
	wantProblem(t, read.call("POST", "/api/v1/installations", `{"slug":"starter-agents"}`), http.StatusForbidden)
	wantProblem(t, read.call("GET", "/api/v1/nothing-here", ""), http.StatusNotFound)
	wantProblem(t, read.call("GET", "/api/v1/directives/"+"00000000-0000-0000-0000-000000000000", ""), http.StatusNotFound)
	wantProblem(t, read.call("GET", "/api/v1/signals?after=-3", ""), http.StatusUnprocessableEntity)
	wantProblem(t, read.call("GET", "/api/v1/packages?limit=5000", ""), http.StatusUnprocessableEntity)
	wantProblem(t, write.call("POST", "/api/v1/forums/threads", `{"title": "x"`), http.StatusBadRequest)
	if p := wantProblem(t, write.call("POST", "/api/v1/forums/threads", `{"titel": "x"}`), http.StatusUnprocessableEntity); p.Errors["titel"] == "" {
		t.Errorf("unknown field: %+v", p)
	}
	if p := wantProblem(t, write.call("POST", "/api/v1/forums/threads", `{"title": 3}`), http.StatusUnprocessableEntity); p.Errors["title"] == "" {
		t.Errorf("wrong type: %+v", p)
	}
	p := wantProblem(t, write.call("POST", "/api/v1/forums/threads", `{"category_id": "", "title": " ", "body": ""}`), http.StatusUnprocessableEntity)
	for _, f := range []string{"category_id", "title", "body"} {
		if p.Errors[f] == "" {
			t.Errorf("no message for %s: %+v", f, p)
		}
	}
	wantProblem(t, write.call("POST", "/api/v1/forums/threads", `{"body": "`+strings.Repeat("a", 1100000)+`"}`), http.StatusRequestEntityTooLarge)
	wantProblem(t, write.call("POST", "/api/v1/installations", `{"slug": "no-such-package"}`), http.StatusUnprocessableEntity)
	wantProblem(t, write.call("DELETE", "/api/v1/installations/starter-agents", ""), http.StatusNotFound) // not installed
}

func TestAPIIdempotencyKeyReturnsTheFirstResult(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteConfig{directives: allKinds})
	seedCatalogue(t, s)
	owner := s.client()
	slug := storetest.Name("apiidem")
	owner.register(slug)
	wantStatus(t, owner.post("/forums/categories", url.Values{"name": {"General"}, "slug": {"general"}}), http.StatusSeeOther)
	org, _ := s.store.OrganizationBySlug(ctx, slug)
	tn := org.Tenant()
	cat, err := s.store.ForumCategoryBySlug(ctx, tn, "general")
	if err != nil {
		t.Fatal(err)
	}
	api := apiClient{s: s, key: owner.newAPIKey("writer", "write")}
	body := `{"category_id": "` + cat.ID + `", "title": "Once", "body": "Only once, please."}`
	first := api.call("POST", "/api/v1/forums/threads", body, "Idempotency-Key", "k-1")
	wantStatus(t, first, http.StatusCreated)
	again := api.call("POST", "/api/v1/forums/threads", body, "Idempotency-Key", "k-1")
	wantStatus(t, again, http.StatusCreated)
	if again.Body != first.Body || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %s / %s (%q)", first.Body, again.Body, again.Header.Get("Idempotent-Replayed"))
	}
	wantProblem(t, api.call("POST", "/api/v1/forums/threads", strings.Replace(body, "Once", "Twice", 1), "Idempotency-Key", "k-1"), http.StatusUnprocessableEntity)

	// Concurrent duplicates: one effect, one answer.
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := api.call("POST", "/api/v1/forums/threads", strings.Replace(body, "Once", "Racing", 1), "Idempotency-Key", "k-race")
			bodies[i] = r.Body
		}()
	}
	wg.Wait()
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("concurrent duplicates answered differently:\n%s\n%s", bodies[0], b)
		}
	}
	var n int
	if err := s.store.DB.GetContext(ctx, &n, tn.SQL(`SELECT count(*) FROM {tenant}.forum_threads WHERE title IN ('Once', 'Racing', 'Twice')`)); err != nil || n != 2 {
		t.Fatalf("%d threads, want 2 (%v)", n, err)
	}
	// An install sent twice with a key is one directive.
	one := api.call("POST", "/api/v1/installations", `{"slug":"starter-agents"}`, "Idempotency-Key", "install-1")
	two := api.call("POST", "/api/v1/installations", `{"slug":"starter-agents"}`, "Idempotency-Key", "install-1")
	wantStatus(t, one, http.StatusAccepted)
	if one.Body != two.Body {
		t.Fatalf("install replay differs:\n%s\n%s", one.Body, two.Body)
	}
	if ds, _ := s.store.DirectivesBySubjects(ctx, tn, []store.Subject{{Type: "package", ID: "starter-agents"}}, 10); len(ds) != 1 {
		t.Fatalf("%d install directives, want 1", len(ds))
	}
}

func TestAPIRateLimitIsSharedAcrossProcesses(t *testing.T) {
	t.Parallel()
	one := startSite(t, siteConfig{apiRateLimit: 4, apiRateWindow: time.Hour})
	two := startSite(t, siteConfig{store: one.store, apiRateLimit: 4, apiRateWindow: time.Hour})
	owner := one.client()
	owner.register(storetest.Name("apirate"))
	api := apiClient{s: one, key: owner.newAPIKey("busy", "read")}
	for i, s := range []*site{one, two, one, two} {
		r := api.on(s).call("GET", "/api/v1/packages", "")
		wantStatus(t, r, http.StatusOK)
		if got, want := r.Header.Get("RateLimit-Remaining"), string(rune('0'+3-i)); got != want {
			t.Errorf("request %d: RateLimit-Remaining %q, want %q", i+1, got, want)
		}
		if r.Header.Get("RateLimit-Limit") != "4" || r.Header.Get("RateLimit-Policy") != "4;w=3600" {
			t.Errorf("headers %v", r.Header)
		}
	}
	r := api.on(two).call("GET", "/api/v1/packages", "")
	wantProblem(t, r, http.StatusTooManyRequests)
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" || r.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("429 headers: Retry-After %q, remaining %q", ra, r.Header.Get("RateLimit-Remaining"))
	}
	// Another key has its own window.
	other := apiClient{s: two, key: owner.newAPIKey("calm", "read")}
	wantStatus(t, other.call("GET", "/api/v1/packages", ""), http.StatusOK)
}

func TestAPIInstallIsTheMarketplaceDirective(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteConfig{directives: allKinds})
	seedCatalogue(t, s)
	owner := s.client()
	slug := storetest.Name("apiinst")
	owner.register(slug)
	s.runJobs(slug)
	api := apiClient{s: s, key: owner.newAPIKey("deployer", "write")}
	r := api.call("POST", "/api/v1/installations", `{"slug":"starter-agents"}`)
	wantStatus(t, r, http.StatusAccepted)
	var dir struct{ ID, Kind, Status string }
	decode(t, r, &dir)
	if dir.Kind != store.DirectivePackageInstall || dir.Status != store.DirectiveRequested {
		t.Fatalf("directive %+v", dir)
	}
	deadline := time.Now().Add(15 * time.Second)
	for dir.Status != store.DirectiveSucceeded && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		decode(t, api.call("GET", "/api/v1/directives/"+dir.ID, ""), &dir)
	}
	if dir.Status != store.DirectiveSucceeded {
		t.Fatalf("install directive %s", dir.Status)
	}
	var inst struct {
		Data []struct{ PackageSlug, Status string } `json:"data"`
	}
	decode(t, api.call("GET", "/api/v1/installations", ""), &inst)
	if len(inst.Data) != 1 || inst.Data[0].Status != store.InstallInstalled {
		t.Fatalf("installations %+v", inst)
	}
	// The same signals as the page's button, with the key's maker as actor.
	org, _ := s.store.OrganizationBySlug(ctx, slug)
	sigs, _ := s.store.SignalsBySubjects(ctx, org.Tenant(), []store.Subject{{Type: "package", ID: "starter-agents"}}, 50)
	names := map[string]bool{}
	for _, sig := range sigs {
		names[sig.Name] = true
	}
	if !names["package.install.requested"] || !names["package.installation.installed"] {
		t.Errorf("signals %v", names)
	}
	wantStatus(t, api.call("DELETE", "/api/v1/installations/starter-agents?purge=true", ""), http.StatusAccepted)
}

func TestAPISignalsPageOldestFirstWithoutPrivateChat(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	owner := s.client()
	slug := storetest.Name("apisig")
	owner.register(slug)
	key := owner.newAPIKey("tail", "read")
	org, _ := s.store.OrganizationBySlug(ctx, slug)
	for _, name := range []string{"forum.post.created", "chat.message.completed", "forum.post.hidden", "package.install.requested"} {
		emitTestSignal(t, s.store, org.Tenant(), name)
	}
	api := apiClient{s: s, key: key}
	var seen []string
	after := ""
	for range 10 {
		var page struct {
			Data []struct {
				Seq  int64  `json:"seq"`
				Name string `json:"name"`
			} `json:"data"`
			Next *string `json:"next"`
		}
		decode(t, api.call("GET", "/api/v1/signals?limit=2&after="+after, ""), &page)
		for _, d := range page.Data {
			seen = append(seen, d.Name)
		}
		if page.Next == nil {
			break
		}
		after = *page.Next
	}
	joined := strings.Join(seen, " ")
	if strings.Contains(joined, "chat.") || !strings.HasSuffix(joined, "forum.post.created forum.post.hidden package.install.requested") {
		t.Fatalf("signals through the API: %s", joined)
	}
}

func emitTestSignal(t *testing.T, st *store.Store, tn store.Tenant, name string) store.Signal {
	t.Helper()
	var sig store.Signal
	err := st.Tx(ctx, func(tx *sqlx.Tx) (err error) {
		sig, _, err = st.EmitSignal(ctx, tx, tn, store.NewSignal{Name: name, Source: "test"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// seedCatalogue loads the demo data (the marketplace's packages); it is
// idempotent, so parallel tests may all ask.
func seedCatalogue(t *testing.T, s *site) {
	t.Helper()
	if err := s.store.Seed(ctx); err != nil {
		t.Fatal(err)
	}
}
