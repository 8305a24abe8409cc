package handlers

import "fleetprompt/store"

// chatActionView is the data of the "chat_action" block: a proposal's card.
type chatActionView struct {
	Action    store.ChatAction
	Directive *store.Directive
	// CanConfirm: the viewer's role may confirm this kind.
	CanConfirm bool
	Error      string
	OOB        string
}

// DOMID is the card's element id.
func (v chatActionView) DOMID() string { return "chat-action-" + v.Action.ID }

// Pending reports whether the confirmed directive is still to finish: the
// card follows it (polling with JavaScript, reload without).
func (v chatActionView) Pending() bool {
	return v.Action.Confirmed() && (v.Directive == nil || !v.Directive.Finished())
}

// DirectiveStatus is the directive's status, "" before confirmation.
func (v chatActionView) DirectiveStatus() string {
	if v.Directive == nil {
		return ""
	}
	return v.Directive.Status
}

// StateLabel says where the confirmed action's directive is.
func (v chatActionView) StateLabel() string {
	switch v.DirectiveStatus() {
	case "", store.DirectiveRequested:
		return "Confirmed: queued"
	case store.DirectiveRunning:
		return "Running…"
	case store.DirectiveSucceeded:
		return "Done"
	case store.DirectiveFailed:
		return "Failed"
	case store.DirectiveCanceled:
		return "Canceled"
	}
	return v.DirectiveStatus()
}

// Tone is the state badge's colour class.
func (v chatActionView) Tone() string {
	switch v.DirectiveStatus() {
	case store.DirectiveSucceeded:
		return "ok"
	case store.DirectiveFailed, store.DirectiveCanceled:
		return "bad"
	}
	return "warn"
}
