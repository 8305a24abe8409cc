package handlers_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"fleetprompt/store/storetest"
)

// The OpenAPI document is the API's contract. These tests hold it to the
// code: it is a valid OpenAPI 3.1 document; every route under /api/v1 is
// in it and everything in it is a route; and real answers of every
// operation, successes and refusals alike, validate against its schemas
// (kin-openapi, an independent implementation of OpenAPI and JSON Schema
// 2020-12).

// loadContract fetches the served document and validates it.
func loadContract(t *testing.T, s *site) *openapi3.T {
	t.Helper()
	r := s.client().get("/api/v1/openapi.json")
	wantStatus(t, r, http.StatusOK)
	doc, err := openapi3.NewLoader().LoadFromData([]byte(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentMatchesTheRoutes(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	doc := loadContract(t, s)
	inRoutes := map[string]bool{}
	for _, rt := range s.engine.Routes() {
		path, ok := strings.CutPrefix(rt.Path, "/api/v1")
		if !ok {
			continue
		}
		parts := strings.Split(path, "/")
		for i, p := range parts {
			if name, ok := strings.CutPrefix(p, ":"); ok {
				parts[i] = "{" + name + "}"
			}
		}
		key := rt.Method + " " + strings.Join(parts, "/")
		inRoutes[key] = true
		item := doc.Paths.Value(strings.Join(parts, "/"))
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("route %s %s is not in the OpenAPI document", rt.Method, rt.Path)
		}
	}
	if len(inRoutes) < 10 {
		t.Fatalf("only %d API routes registered", len(inRoutes))
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !inRoutes[method+" "+path] {
				t.Errorf("the document has %s %s, which no route serves", method, path)
			}
		}
	}
}

// contract validates real exchanges against the document.
type contract struct {
	t      *testing.T
	s      *site
	router routers.Router
	seen   map[string]bool // "METHOD /path status" validated
}

func newContract(t *testing.T, s *site) *contract {
	doc := loadContract(t, s)
	doc.Servers = openapi3.Servers{{URL: s.srv.URL + "/api/v1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{t: t, s: s, router: router, seen: map[string]bool{}}
}

// check sends the request, validates it and its answer, and returns the
// answer; want is the status the exchange must have.
func (c *contract) check(a apiClient, method, path, body string, want int, headers ...string) *response {
	c.t.Helper()
	r := a.call(method, path, body, headers...)
	wantStatus(c.t, r, want)
	req, _ := http.NewRequest(method, c.s.srv.URL+path, strings.NewReader(body))
	req.Header = r.Request.Header.Clone()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s: not in the document: %v", method, path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if want < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s: the request does not match the document: %v", method, path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.StatusCode, Header: r.Header,
		Body: io.NopCloser(bytes.NewReader([]byte(r.Body))), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s → %d: the answer does not match the document: %v\n%.600s", method, path, r.StatusCode, err, r.Body)
	}
	c.seen[route.Method+" "+route.Path+" "+http.StatusText(r.StatusCode)] = true
	return r
}

func TestAPIAnswersMatchTheContract(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteConfig{directives: allKinds, apiRateLimit: 1000})
	seedCatalogue(t, s)
	owner := s.client()
	slug := storetest.Name("apicontract")
	owner.register(slug)
	s.runJobs(slug)
	wantStatus(t, owner.post("/forums/categories", url.Values{"name": {"General"}, "slug": {"general"}}), http.StatusSeeOther)
	org, _ := s.store.OrganizationBySlug(ctx, slug)
	tn := org.Tenant()
	cat, _ := s.store.ForumCategoryBySlug(ctx, tn, "general")
	write := apiClient{s: s, key: owner.newAPIKey("writer", "write")}
	read := apiClient{s: s, key: owner.newAPIKey("reader", "read")}
	c := newContract(t, s)

	c.check(read, "GET", "/api/v1/packages?limit=2", "", 200)
	var dir struct{ ID string }
	decode(t, c.check(write, "POST", "/api/v1/installations", `{"slug":"starter-agents"}`, 202, "Idempotency-Key", "c-1"), &dir)
	c.check(write, "POST", "/api/v1/installations", `{"slug":"starter-agents"}`, 202, "Idempotency-Key", "c-1")
	c.check(read, "GET", "/api/v1/directives/"+dir.ID, "", 200)
	waitFor(t, "the install", func() bool { d, _ := s.store.Directive(ctx, tn, dir.ID); return d.Finished() })
	c.check(read, "GET", "/api/v1/directives/"+dir.ID, "", 200)
	c.check(read, "GET", "/api/v1/installations", "", 200)
	c.check(read, "GET", "/api/v1/signals?after=0&limit=5", "", 200)
	var agentID string // beside the package's: its install would go over the free tier's limit
	if err := s.store.DB.GetContext(ctx, &agentID, tn.SQL(`INSERT INTO {tenant}.agents (name, system_prompt, state) VALUES ('Helper', 'You help.', 'active') RETURNING id`)); err != nil {
		t.Fatal(err)
	}
	c.check(read, "GET", "/api/v1/agents", "", 200)
	var exec struct{ ID string }
	decode(t, c.check(write, "POST", "/api/v1/agents/"+agentID+"/executions", `{"input":"Say hello."}`, 202), &exec)
	c.check(read, "GET", "/api/v1/executions/"+exec.ID, "", 200)
	var th struct{ ID string }
	decode(t, c.check(write, "POST", "/api/v1/forums/threads", `{"category_id":"`+cat.ID+`","title":"Hello","body":"First post."}`, 201), &th)
	c.check(write, "POST", "/api/v1/forums/threads/"+th.ID+"/posts", `{"body":"A reply."}`, 201)
	c.check(read, "GET", "/api/v1/forums/threads?category=general&limit=1", "", 200)
	c.check(write, "DELETE", "/api/v1/installations/starter-agents", "", 202)

	// Refusals are in the contract too.
	c.check(apiClient{s: s}, "GET", "/api/v1/agents", "", 401)
	c.check(read, "POST", "/api/v1/forums/threads", `{"title":"x"}`, 403)
	c.check(read, "GET", "/api/v1/directives/00000000-0000-0000-0000-000000000000", "", 404)
	c.check(write, "POST", "/api/v1/forums/threads", `{"title":""}`, 422)
	c.check(write, "POST", "/api/v1/forums/threads", `{`, 400)
	c.check(read, "GET", "/api/v1/signals?limit=0", "", 422)
	if len(c.seen) < 15 {
		t.Errorf("only %d exchanges validated", len(c.seen))
	}
}

func TestAPIRateLimitedAnswerMatchesTheContract(t *testing.T) {
	t.Parallel()
	s := startSite(t, siteConfig{apiRateLimit: 1, apiRateWindow: time.Hour})
	owner := s.client()
	owner.register(storetest.Name("apicontract429"))
	read := apiClient{s: s, key: owner.newAPIKey("reader", "read")}
	c := newContract(t, s)
	c.check(read, "GET", "/api/v1/agents", "", 200)
	c.check(read, "GET", "/api/v1/agents", "", 429)
}

// waitFor polls cond for up to 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAPIDocsPageShowsEveryOperationWithCurl(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	doc := loadContract(t, s)
	r := s.client().get("/docs/api")
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	ops := 0
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops++
			sel := `[data-testid=api-operation][data-method="` + method + `"][data-path="` + path + `"]`
			op := d.Find(sel)
			if op.Length() != 1 {
				t.Errorf("%s %s: %d sections on the page", method, path, op.Length())
				continue
			}
			curl := op.Find("[data-testid=curl]").Text()
			if !strings.HasPrefix(curl, "curl") || !strings.Contains(curl, "/api/v1"+path) {
				t.Errorf("%s %s: curl example %q", method, path, curl)
			}
			if path != "/openapi.json" && !strings.Contains(curl, "Authorization: Bearer") {
				t.Errorf("%s %s: the example sends no key", method, path)
			}
		}
	}
	if ops < 12 || d.Find(`[id="problem-rate-limited"]`).Length() != 1 || d.Find(`a[href="/api/v1/openapi.json"]`).Length() == 0 {
		t.Errorf("%d operations; problem anchors and the document link must be there", ops)
	}
}
