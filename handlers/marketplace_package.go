package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

// packageData is the package detail page.
type packageData struct {
	Package  store.Package
	Includes store.PackageIncludes
	Status   InstallStatus
	Reviews  []store.Review
	// HasReview: the viewer reviewed this package already; the form
	// edits that review.
	HasReview bool
	Ratings   []int
	Live      liveInstalls
}

// marketplacePackage shows one published package: what it includes, its
// install state, reviews and the review form.
func (h *Handler) marketplacePackage(c *gin.Context) error {
	return h.renderPackage(c, http.StatusOK, "content", c.Param("slug"), nil, "")
}

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

// marketplaceReview records the viewer's review (members may review). A
// second review by the same user replaces the first: one per user per
// package, and the form says so.
func (h *Handler) marketplaceReview(c *gin.Context) error {
	slug := c.Param("slug")
	f := views.NewForm()
	for _, k := range []string{"rating", "title", "content"} {
		f.Values[k] = c.PostForm(k)
	}
	created, err := h.store.SaveReview(c.Request.Context(), slug, authOf(c).Session.UserID,
		store.ReviewInput{Rating: f.Values["rating"], Title: f.Values["title"], Content: f.Values["content"]})
	var v *store.ValidationError
	if errors.As(err, &v) {
		f.Errors = v.Fields
		return h.renderPackage(c, http.StatusUnprocessableEntity, "review_form", slug, f, "")
	} else if err != nil {
		return err
	}
	if created {
		h.flash(c, "info", "Thank you: your review is published.")
	} else {
		h.flash(c, "info", "Your review was updated.")
	}
	return redirect(c, "/marketplace/"+slug+"#reviews")
}
