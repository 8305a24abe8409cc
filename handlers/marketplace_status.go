package handlers

import (
	"net/url"

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

// PollURL is the status route the fragment polls while Pending.
func (s InstallStatus) PollURL() string {
	u := "/marketplace/" + url.PathEscape(s.Slug) + "/status"
	if s.ReturnTo != "" {
		u += "?return_to=" + url.QueryEscape(s.ReturnTo)
	}
	return u
}
