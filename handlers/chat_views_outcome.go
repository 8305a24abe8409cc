package handlers

import (
	"encoding/json"
	"strconv"

	"fleetprompt/store"
)

// Outcome says what the finished directive did, in words.
func (v chatActionView) Outcome() string {
	d := v.Directive
	if d == nil || !d.Finished() {
		return ""
	}
	if d.Status != store.DirectiveSucceeded {
		if d.LastError != "" {
			return d.LastError
		}
		return "It did not happen (" + d.Status + ")."
	}
	switch v.Action.Kind {
	case store.ActionInstallPackage:
		var r store.InstallResult
		json.Unmarshal(d.Result, &r)
		return "Installed: " + plural(len(r.AgentsCreated), "agent") + " created."
	case store.ActionUninstallPackage:
		return "Uninstalled."
	case store.ActionLockThread:
		return "The thread is locked."
	case store.ActionCreateThread:
		return "The thread was created."
	}
	return "Done."
}

// ThreadURL links the thread an action is about (or created).
func (v chatActionView) ThreadURL() string {
	p := v.Action.Decoded()
	if p.ThreadID != "" {
		return "/forums/t/" + p.ThreadID
	}
	if v.Directive != nil && v.Directive.Status == store.DirectiveSucceeded && v.Action.Kind == store.ActionCreateThread {
		var r store.ThreadCreateResult
		json.Unmarshal(v.Directive.Result, &r)
		if r.ThreadID != "" {
			return "/forums/t/" + r.ThreadID
		}
	}
	return ""
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
