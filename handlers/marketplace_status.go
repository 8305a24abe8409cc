package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// InstallStatus is the data of the "install_status" block
// (views/templates/partials/install_status.html): one package's install
// state in the current tenant, with the install/uninstall forms for
// owners and admins. The block renders a <div id="install-<slug>">, so the
// live layer can push the same fragment over SSE (build it with
// Handler.InstallStatusFor) and swap it by id.
type InstallStatus struct {
	Slug    string
	Name    string
	Version string
	// State is the installation status ("" = not installed): requested,
	// installing, installed, failed or disabled.
	State string
	// The latest install/uninstall directive about the package.
	DirectiveID     string
	DirectiveName   string // package.install or package.uninstall
	DirectiveStatus string // requested, running, succeeded, failed, canceled
	// Error is why the last attempt failed, or why a request was refused.
	Error string
	// Pending: a directive is queued or running, so the fragment polls
	// itself until it is done.
	Pending bool
	// CanManage shows the install/uninstall forms (owner/admin); members
	// see the state only.
	CanManage bool
	// IdempotencyKey is fresh for every render: resending the same form
	// returns the same directive, a new click makes a new one.
	IdempotencyKey string
	UninstallKey   string // the uninstall form's own key
	// ReturnTo is the page the forms come back to (a local path).
	ReturnTo string
	// WorkflowsOff counts the installed package's workflows that are off
	// (the tier's limit was reached when it was installed, or since).
	WorkflowsOff int
}

// Installed reports whether the package is installed and ready.
func (s InstallStatus) Installed() bool { return s.State == store.InstallInstalled }

// Uninstalling reports whether the pending directive is an uninstall.
func (s InstallStatus) Uninstalling() bool {
	return s.Pending && s.DirectiveName == store.DirectivePackageUninstall
}

// Label says the state in words.
func (s InstallStatus) Label() string {
	switch {
	case s.Pending && s.DirectiveName == store.DirectivePackageUninstall:
		return "Uninstalling…"
	case s.Pending && s.DirectiveStatus == "running":
		return "Installing…"
	case s.Pending:
		return "Install requested…"
	}
	switch s.State {
	case store.InstallInstalled:
		return "Installed"
	case store.InstallInstalling, store.InstallRequested:
		return "Installing…"
	case store.InstallFailed:
		return "Install failed"
	case store.InstallDisabled:
		return "Disabled"
	}
	if s.DirectiveStatus == "failed" && s.DirectiveName == store.DirectivePackageInstall {
		return "Install failed"
	}
	return "Not installed"
}

// Tone is the badge's colour class.
func (s InstallStatus) Tone() string {
	switch {
	case s.Pending:
		return "warn"
	case s.State == store.InstallInstalled:
		return "ok"
	case s.State == store.InstallFailed, s.DirectiveStatus == "failed":
		return "bad"
	}
	return ""
}

// PollURL is the status route the fragment polls while Pending.
func (s InstallStatus) PollURL() string {
	u := "/marketplace/" + url.PathEscape(s.Slug) + "/status"
	if s.ReturnTo != "" {
		u += "?return_to=" + url.QueryEscape(s.ReturnTo)
	}
	return u
}

// installLiveEvents are the signals whose live fragments update install
// statuses in place (out of band, by id) on the marketplace pages, which
// follow the "installations" topic.
var installLiveEvents = strings.Join([]string{
	"package.install.requested", "package.uninstall.requested",
	"package.installation.started", "package.installation.installing", "package.installation.installed",
	"package.installation.failed", "package.installation.uninstalled",
	"package.installation.enabled", "package.installation.disabled",
	"directive.requested", "directive.started", "directive.succeeded", "directive.failed", "directive.canceled",
}, ",")

// liveInstalls is what a marketplace page needs to follow installs live:
// the signal seq it was rendered at (its stream resumes after it) and the
// events to swap.
type liveInstalls struct {
	Seq    int64
	Events string
}

func newIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

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
