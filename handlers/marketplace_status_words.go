package handlers

import "fleetprompt/store"

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
