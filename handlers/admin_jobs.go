package handlers

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// adminJobs is GET /admin/jobs?state=&kind=&after=&failures_after=.
func (h *Handler) adminJobs(c *gin.Context) error {
	ctx, t := c.Request.Context(), tenant(c)
	v := newAdminView(c, "jobs")
	after, err := store.ParseIDCursor("after", v.Q("after"))
	if err != nil {
		return err
	}
	failAfter, err := store.ParseIDCursor("failures_after", v.Q("failures_after"))
	if err != nil {
		return err
	}
	d := adminJobsData{States: jobStates}
	if d.Depths, err = h.store.JobDepths(ctx, t); err != nil {
		return err
	}
	if d.Subscribers, err = h.store.SignalCursors(ctx, t.Schema()); err != nil {
		return err
	}
	if d.Head, err = h.store.SignalHead(ctx, h.store.DB, t); err != nil {
		return err
	}
	if d.Parked, err = h.store.SignalFailures(ctx, t.Schema(), 50); err != nil {
		return err
	}
	var failNext int64
	if d.Failures, failNext, err = h.store.JobFailures(ctx, t, failAfter, 20); err != nil {
		return err
	}
	perPage := v.Limit()
	if perPage == 0 {
		perPage = 50
	}
	if d.Recent, err = jobs.List(ctx, h.store.DB, jobs.Filter{Tenant: t.Schema(), State: v.Q("state"), Kind: v.Q("kind"),
		BeforeID: after, Limit: perPage}); err != nil {
		return err
	}
	next := ""
	if len(d.Recent) == perPage {
		next = strconv.FormatInt(d.Recent[perPage-1].ID, 10)
	}
	v.pageLinks("/admin/jobs", "after", next)
	fv := &adminView{Query: v.Query}
	fn := ""
	if failNext > 0 {
		fn = strconv.FormatInt(failNext, 10)
	}
	fv.pageLinks("/admin/jobs", "failures_after", fn)
	d.FailuresNext, d.FailuresFirst = fv.Next, fv.First
	v.List = d
	return h.adminRender(c, "admin_jobs", "Jobs", v)
}
