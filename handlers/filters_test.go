package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestUnknownFiltersAreSaid: a filter a list does not know, or a value it
// does not have, was silently ignored (the whole list shown as if
// filtered). Now the page answers 422 and says what it left out, and still
// shows the list without it.
func TestUnknownFiltersAreSaid(t *testing.T) {
	s := newSite(t)
	c := s.client()
	c.register("filtersaid")
	for _, tc := range []struct{ path, sel, want string }{
		{"/marketplace?category=bogus", "[data-testid=filter-problem]", `"bogus" is not a category`},
		{"/marketplace?tier=platinum&q=agent", "[data-testid=filter-problem]", `"platinum" is not a tier`},
		{"/admin/signals?from=notadate", "[data-testid=admin-notice]", `no filter "from"`},
		{"/admin/directives?status=bogus", "[data-testid=admin-notice]", `"bogus" is not a status`},
		{"/admin/members?role=king", "[data-testid=admin-notice]", `"king" is not a role`},
		{"/admin/skills?q=x", "[data-testid=admin-notice]", `takes no filter "q"`},
	} {
		r := c.get(tc.path)
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.path, r.StatusCode)
			continue
		}
		if got := text(r.doc(t), tc.sel); !strings.Contains(got, tc.want) {
			t.Errorf("%s: notice %q, want %q", tc.path, got, tc.want)
		}
	}
	// Known filters and values pass quietly, a bad time is still 422.
	for _, p := range []string{"/marketplace?category=sales", "/admin/signals?name=forum.*&limit=5", "/admin/directives?status=failed"} {
		r := c.get(p)
		wantStatus(t, r, http.StatusOK)
		if n := r.doc(t).Find("[data-testid=filter-problem], [data-testid=admin-notice]").Length(); n != 0 {
			t.Errorf("%s: %d notices", p, n)
		}
	}
	wantStatus(t, c.get("/admin/signals?since=notadate"), http.StatusUnprocessableEntity)
}
