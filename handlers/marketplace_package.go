package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
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
