package handlers

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

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

// apiInstall is POST /api/v1/installations {"slug"}: the same
// package.install directive as the marketplace's button (its signals, its
// live progress on the page), answered 202 with the directive.
func (h *Handler) apiInstall(c *gin.Context) error {
	if err := apiAdmin(c); err != nil {
		return err
	}
	return h.apiWrite(c, func(ctx context.Context, _ *sqlx.Tx, raw []byte, once store.APIOnce) (int, any, error) {
		var in struct {
			Slug string `json:"slug"`
		}
		if err := decodeJSON(raw, &in); err != nil {
			return 0, nil, err
		}
		if in.Slug == "" {
			return 0, nil, store.Invalid("slug", "can't be blank: name the package to install")
		}
		caller := apiCaller(c)
		dir, _, err := h.store.RequestInstall(ctx, caller.Tenant(), store.InstallRequest{Slug: in.Slug, IdempotencyKey: directiveKey(once), UserID: caller.UserID})
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, store.Invalid("slug", "is not a package in the marketplace")
		} else if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, toAPIDirective(dir), nil
	})
}

// apiUninstall is DELETE /api/v1/installations/:slug?purge=true: the
// package.uninstall directive, 202. A package not installed is 404.
func (h *Handler) apiUninstall(c *gin.Context) error {
	if err := apiAdmin(c); err != nil {
		return err
	}
	purge, err := strconv.ParseBool(c.DefaultQuery("purge", "false"))
	if err != nil {
		return store.Invalid("purge", "must be true or false")
	}
	return h.apiWrite(c, func(ctx context.Context, _ *sqlx.Tx, _ []byte, once store.APIOnce) (int, any, error) {
		caller := apiCaller(c)
		if _, err := h.store.InstallationBySlug(ctx, caller.Tenant(), c.Param("slug")); err != nil {
			return 0, nil, err
		}
		dir, _, err := h.store.RequestUninstall(ctx, caller.Tenant(), store.UninstallRequest{Slug: c.Param("slug"),
			IdempotencyKey: directiveKey(once), UserID: caller.UserID, Purge: purge})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, toAPIDirective(dir), nil
	})
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
