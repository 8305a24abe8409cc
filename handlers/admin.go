package handlers

import (
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/views"
)

// The admin console (SPEC §8, §11): owners and admins of the current
// organization run it from the browser. Every table is a URL (filters and
// the keyset cursor are query parameters); every action is a plain form
// that answers 303 back to the filtered view it came from, and that htmx
// enhances by swapping the page's #admin-page block in place.

// adminView is the data of every admin page.
type adminView struct {
	Section string // the sub-nav's current item
	// Query holds the current filters, for the filter form.
	Query url.Values
	// Self is the current view's URL: the actions' return_to.
	Self string
	// Next is the URL of the following page, "" on the last; First the
	// unpaged view, "" when already there.
	Next, First string
	// Notice is an action's outcome shown in the page (htmx, or a refused
	// action re-rendered with 422).
	Notice *views.Flash
	List   any // the section's own data
	// filterProblems are the URL's unknown filters and values, dropped
	// from Query and said on the page (adminRender).
	filterProblems []string
}

// Q returns the current value of a filter.
func (v *adminView) Q(key string) string { return v.Query.Get(key) }

// Limit is the page size the URL asks for (?limit=, at most 200), or 0
// for the list's default.
func (v *adminView) Limit() int {
	n, err := strconv.Atoi(v.Q("limit"))
	if err != nil || n <= 0 {
		return 0
	}
	return min(n, 200)
}

// Context keys an action uses to hand its outcome to the list it
// re-renders.
const (
	adminStatusKey = "admin.status"
	adminNoticeKey = "admin.notice"
	adminFormKey   = "admin.form"
)

// newAdminView reads the request's filters. cursor names the query
// parameter holding the page cursor; next is the following page's cursor.
func newAdminView(c *gin.Context, section string) *adminView {
	u := c.Request.URL
	v := &adminView{Section: section, Query: u.Query(), Self: u.Path}
	if u.RawQuery != "" {
		v.Self += "?" + u.RawQuery
	}
	if n, ok := c.Get(adminNoticeKey); ok {
		v.Notice = n.(*views.Flash)
	}
	if v.filterProblems = v.checkFilters(); v.filterProblems != nil {
		v.Self = withQuery(u.Path, cloneValues(v.Query))
	}
	return v
}
