package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
	"fleetprompt/views"
)

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
