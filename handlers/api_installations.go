package handlers

import (
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// apiInstallations is GET /api/v1/installations?after=&limit=: the
// organization's installations, by package slug.
func (h *Handler) apiInstallations(c *gin.Context) error {
	limit, err := apiLimit(c, 50, 200)
	if err != nil {
		return err
	}
	is, err := h.store.Installations(c.Request.Context(), apiCaller(c).Tenant())
	if err != nil {
		return err
	}
	sort.Slice(is, func(i, j int) bool { return is[i].PackageSlug < is[j].PackageSlug })
	page, next := pageSorted(is, func(i store.Installation) string { return i.PackageSlug }, c.Query("after"), limit)
	out := make([]apiInstallation, len(page))
	for i, in := range page {
		out[i] = toAPIInstallation(in)
	}
	c.JSON(http.StatusOK, newList(out, next))
	return nil
}
