package handlers

import (
	"errors"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// renderPackage renders the package page. form, when not nil, is a review
// form to show as submitted (with its messages); installErr is a refused
// install or uninstall request to show in the install status.
func (h *Handler) renderPackage(c *gin.Context, status int, block, slug string, form *views.Form, installErr string) error {
	ctx := c.Request.Context()
	a := authOf(c)
	seq, err := h.store.LatestSignalSeq(ctx, tenant(c))
	if err != nil {
		return err
	}
	// Members browse published packages only; a refused install shows
	// the package as it is, as being unpublished may be the reason.
	get := h.store.PublishedPackage
	if installErr != "" {
		get = h.store.PackageBySlug
	}
	p, err := get(ctx, slug)
	if err != nil {
		return err
	}
	st, err := h.store.InstallStateOf(ctx, tenant(c), p.Slug)
	if err != nil {
		return err
	}
	reviews, err := h.store.Reviews(ctx, p.ID)
	if err != nil {
		return err
	}
	d := packageData{Package: p, Includes: p.Includes(), Reviews: reviews, Ratings: []int{5, 4, 3, 2, 1},
		Live:   liveInstalls{Seq: seq, Events: installLiveEvents},
		Status: installStatusOf(p, st, a.Member.IsAdmin(), "/marketplace/"+p.Slug)}
	if installErr != "" {
		d.Status.Error = installErr
	}
	if err := h.countWorkflowsOff(ctx, tenant(c), p, &d.Status); err != nil {
		return err
	}
	mine, err := h.store.ReviewBy(ctx, p.ID, a.Session.UserID)
	switch {
	case err == nil:
		d.HasReview = true
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if form == nil {
		form = views.NewForm()
		if d.HasReview {
			form.Values["rating"], form.Values["title"], form.Values["content"] = strconv.Itoa(mine.Rating), mine.Title, mine.Content
		}
	}
	pg := h.page(c, p.Name, d)
	pg.Form = form
	return h.render(c, status, "marketplace_package", block, pg)
}
