package handlers

import (
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// apiPackages is GET /api/v1/packages?after=&limit=: the published
// catalogue, by slug.
func (h *Handler) apiPackages(c *gin.Context) error {
	limit, err := apiLimit(c, 50, 200)
	if err != nil {
		return err
	}
	pkgs, err := h.store.ListPackages(c.Request.Context(), store.PackageFilter{})
	if err != nil {
		return err
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Slug < pkgs[j].Slug })
	page, next := pageSorted(pkgs, func(p store.Package) string { return p.Slug }, c.Query("after"), limit)
	out := make([]apiPackage, len(page))
	for i, p := range page {
		out[i] = toAPIPackage(p)
	}
	c.JSON(http.StatusOK, newList(out, next))
	return nil
}

// pageSorted pages items sorted by key: those after the cursor, up to
// limit, and the next cursor ("" on the last page). For lists small enough
// to read whole (the catalogue, an organization's installations, agents).
func pageSorted[T any](items []T, key func(T) string, after string, limit int) ([]T, string) {
	start := 0
	if after != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	items = items[start:]
	if len(items) <= limit {
		return items, ""
	}
	return items[:limit], key(items[limit-1])
}
