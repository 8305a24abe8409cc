package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs"
	"fleetprompt/store"
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

// pageLinks fills Next and First for a list paged by the cursor parameter.
func (v *adminView) pageLinks(path, cursor, next string) {
	q := cloneValues(v.Query)
	if q.Get(cursor) != "" {
		q.Del(cursor)
		v.First = withQuery(path, q)
	}
	if next != "" {
		q.Set(cursor, next)
		v.Next = withQuery(path, q)
	}
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// withQuery joins a path and its non-empty parameters.
func withQuery(path string, q url.Values) string {
	for k, vs := range q {
		if len(vs) == 0 || vs[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// adminRender writes an admin page, or for htmx its #admin-page block.
// An action re-rendering the list passes its status and form through the
// context.
func (h *Handler) adminRender(c *gin.Context, page, title string, v *adminView) error {
	status := http.StatusOK
	if s, ok := c.Get(adminStatusKey); ok {
		status = s.(int)
	}
	v.refuseFilters(v.filterProblems, &status)
	p := h.page(c, title, v)
	if f, ok := c.Get(adminFormKey); ok {
		p.Form = f.(*views.Form)
	} else {
		p.Form = views.NewForm()
	}
	return h.render(c, status, page, "admin_page", p)
}

// adminReturn is where an action goes back to: the form's return_to when
// it is a view of the same section (base), else the section itself.
func adminReturn(c *gin.Context, base string) string {
	rt := localPath(c.PostForm("return_to"), base)
	if rt == base || strings.HasPrefix(rt, base+"?") {
		return rt
	}
	return base
}

// adminAct runs an admin action. Success: 303 back to the filtered view
// with a flash, or for htmx that view re-rendered with the message. A
// refusal the user can act on (a *ValidationError) re-renders the view
// with the message and 422, with or without JavaScript. Other errors go
// to the error page (404 for foreign ids, 403, 500).
func (h *Handler) adminAct(c *gin.Context, base string, list func(*gin.Context) error, act func(ctx context.Context) (string, error)) error {
	back := adminReturn(c, base)
	msg, err := act(c.Request.Context())
	var v *store.ValidationError
	switch {
	case errors.As(err, &v):
		return h.adminRelist(c, back, http.StatusUnprocessableEntity, &views.Flash{Kind: "error", Message: validationMessage(v)}, list)
	case err != nil:
		return err
	case !isHTMX(c):
		h.flash(c, "info", msg)
		return redirect(c, back)
	}
	return h.adminRelist(c, back, http.StatusOK, &views.Flash{Kind: "info", Message: msg}, list)
}

// adminRelist renders the list at back in answer to an action.
func (h *Handler) adminRelist(c *gin.Context, back string, status int, notice *views.Flash, list func(*gin.Context) error) error {
	u, err := url.Parse(back)
	if err != nil {
		return err
	}
	c.Request.URL.Path, c.Request.URL.RawPath, c.Request.URL.RawQuery = u.Path, "", u.RawQuery
	c.Set(adminStatusKey, status)
	c.Set(adminNoticeKey, notice)
	return list(c)
}

// validationMessage joins a ValidationError's messages for a notice.
func validationMessage(v *store.ValidationError) string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = v.Fields[k]
	}
	return strings.Join(msgs, "; ")
}

// adminOverview is GET /admin: the organization at a glance, with a way
// into each table.
type adminOverview struct {
	Figures   store.DashboardFigures
	Members   int
	Jobs      jobs.Stats
	FailedDir int
}

func (h *Handler) adminHome(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	var d adminOverview
	var err error
	if d.Figures, err = h.store.Dashboard(ctx, t); err != nil {
		return err
	}
	if d.Jobs, err = jobs.Count(ctx, h.store.DB, t.Schema()); err != nil {
		return err
	}
	if d.Members, err = h.store.CountMembers(ctx, t.OrgID); err != nil {
		return err
	}
	d.FailedDir = d.Figures.DirectivesByStatus[store.DirectiveFailed]
	v := newAdminView(c, "overview")
	v.List = d
	return h.adminRender(c, "admin", "Admin", v)
}
