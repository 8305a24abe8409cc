package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

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
