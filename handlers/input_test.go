package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"fleetprompt/store/storetest"
)

// Text PostgreSQL cannot store (NUL bytes, invalid UTF-8) is refused with
// a clear message and a 4xx, never a 500, and nothing is saved.
func TestUnstorableInputIsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	c := s.client()
	c.register(storetest.Name("nul"))

	r := c.get("/marketplace?q=%00")
	wantStatus(t, r, http.StatusBadRequest)
	if !strings.Contains(r.Body, "cannot be used") {
		t.Errorf("no message: %s", r.Body)
	}
	wantStatus(t, c.get("/forums?page=%ff%fe"), http.StatusBadRequest)

	slug := storetest.Name("nulreg")
	for _, body := range []string{
		"org_name=A%00B&org_slug=" + slug + "&name=x&email=" + slug + "@example.com&password=password123",
		"org_name=A%ff%feB&org_slug=" + slug + "&name=x&email=" + slug + "@example.com&password=password123",
	} {
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/register", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := s.client().do(req)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(r.Body, "org_name") {
			t.Errorf("the message does not name the field: %s", r.Body)
		}
	}
	if _, err := s.store.OrganizationBySlug(ctx, slug); err == nil {
		t.Error("an organization was created from unstorable input")
	}
}
