package handlers

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// installStatusOf turns the store's state into the block's data.
func installStatusOf(p store.Package, st store.InstallState, canManage bool, returnTo string) InstallStatus {
	s := InstallStatus{
		Slug: p.Slug, Name: p.Name, Version: p.Version,
		DirectiveID: st.DirectiveID, DirectiveName: st.DirectiveName, DirectiveStatus: st.DirectiveStatus,
		Pending: st.Pending(), CanManage: canManage, IdempotencyKey: newIdempotencyKey(), UninstallKey: newIdempotencyKey(), ReturnTo: returnTo,
	}
	if st.Installation != nil {
		s.State = st.Installation.Status
		if st.Installation.LastError.Valid && st.Installation.Status == store.InstallFailed {
			s.Error = st.Installation.LastError.String
		}
	}
	if s.Error == "" && st.DirectiveStatus == "failed" {
		s.Error = st.DirectiveError
	}
	return s
}

// InstallStatusFor builds the "install_status" block's data for one
// package in tenant t, as a viewer who may (canManage) or may not manage
// installations sees it. The live layer renders it with
// views.Render(w, "marketplace", "install_status", data) to push updates.
func (h *Handler) InstallStatusFor(ctx context.Context, t store.Tenant, slug string, canManage bool, returnTo string) (InstallStatus, error) {
	p, err := h.store.PublishedPackage(ctx, slug)
	if err != nil {
		return InstallStatus{}, err
	}
	return h.installStatus(ctx, t, p, canManage, returnTo)
}

func (h *Handler) installStatus(ctx context.Context, t store.Tenant, p store.Package, canManage bool, returnTo string) (InstallStatus, error) {
	st, err := h.store.InstallStateOf(ctx, t, p.Slug)
	if err != nil {
		return InstallStatus{}, err
	}
	s := installStatusOf(p, st, canManage, localPath(returnTo, "/marketplace"))
	return s, h.countWorkflowsOff(ctx, t, p, &s)
}

// countWorkflowsOff fills s.WorkflowsOff for an installed package that
// ships workflows.
func (h *Handler) countWorkflowsOff(ctx context.Context, t store.Tenant, p store.Package, s *InstallStatus) error {
	if !s.Installed() || len(p.Includes().Workflows) == 0 {
		return nil
	}
	var err error
	s.WorkflowsOff, err = h.store.PackageWorkflowsOff(ctx, t, p.Slug)
	return err
}

// marketplaceStatus answers the status fragment's polling.
func (h *Handler) marketplaceStatus(c *gin.Context) error {
	a := authOf(c)
	s, err := h.InstallStatusFor(c.Request.Context(), tenant(c), c.Param("slug"), a.Member.IsAdmin(), c.Query("return_to"))
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	return h.renderInstallStatus(c, http.StatusOK, s)
}
