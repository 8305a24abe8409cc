package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"strconv"

	"fleetprompt/store"
)

// chatMessageView is the data of the "chat_message" block: one bubble.
type chatMessageView struct {
	Msg       store.ChatMessage
	AgentName string
	// HTML is a finished assistant message's Markdown, rendered safely.
	HTML template.HTML
	// Text is the text so far of a streaming message.
	Text    string
	Actions []chatActionView
	// Retry shows the Retry button (the last answer failed or stopped).
	Retry bool
	// OOB, when set, is the bubble's hx-swap-oob value (live fragments).
	OOB string
}

// DOMID is the bubble's element id.
func (v chatMessageView) DOMID() string { return "chat-msg-" + v.Msg.ID }

// ToolNames lists the tools an assistant message asked for.
func (v chatMessageView) ToolNames() []string {
	var out []string
	for _, c := range v.Msg.Calls() {
		out = append(out, c.Name)
	}
	return out
}

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

// chatActionOf builds a card, reading its directive.
func (h *Handler) chatActionOf(ctx context.Context, t store.Tenant, a store.ChatAction, isAdmin bool) chatActionView {
	v := chatActionView{Action: a, CanConfirm: isAdmin || !a.NeedsAdmin()}
	if a.DirectiveID != "" {
		if d, err := h.store.Directive(ctx, t, a.DirectiveID); err == nil {
			v.Directive = &d
		}
	}
	return v
}

// chatMessageOf builds a bubble. A streaming answer shows the text its
// run last saved; the live stream brings the rest.
func (h *Handler) chatMessageOf(conv store.Conversation, m store.ChatMessage, actions []chatActionView) chatMessageView {
	v := chatMessageView{Msg: m, AgentName: conv.AgentName, Actions: actions}
	switch {
	case m.Streaming():
		v.Text = m.Content
	case m.Role == store.ChatAssistant:
		v.HTML = store.RenderMarkdown(m.Content)
	}
	return v
}

// renderChat renders a block of the conversation page to bytes.
func (h *Handler) renderChat(block string, data any) []byte {
	var buf bytes.Buffer
	if err := h.views.Render(&buf, "chat_conversation", block, data); err != nil {
		h.log.Error("chat: render", "block", block, "err", err)
		return nil
	}
	return bytes.TrimSpace(buf.Bytes())
}

// oobAppend wraps html to be appended to target out of band. fp-live
// (static/app.js) skips elements already on the page, so an append
// repeated by a replay or a second path is harmless.
func oobAppend(target string, html []byte) []byte {
	out := make([]byte, 0, len(html)+64)
	out = append(out, `<div hx-swap-oob="beforeend:`...)
	out = append(out, target...)
	out = append(out, `">`...)
	out = append(out, html...)
	return append(out, "</div>"...)
}

// startedHTML is the event that starts an answer's bubble: the messages
// before it (the user's, or tool results) and the bubble, appended unless
// already there; with text, the bubble is also replaced by one holding
// all of it (the catch-up of a page that joined mid-answer).
func (h *Handler) startedHTML(t store.Tenant, conv store.Conversation, prelude []store.ChatMessage, msg store.ChatMessage, text string) []byte {
	var body []byte
	for _, m := range prelude {
		body = append(body, h.renderChat("chat_message", h.chatMessageOf(conv, m, nil))...)
	}
	msg.Status, msg.Content = store.ChatStreaming, text
	v := chatMessageView{Msg: msg, AgentName: conv.AgentName, Text: text}
	body = append(body, h.renderChat("chat_message", v)...)
	out := oobAppend("#chat-messages", body)
	if text != "" {
		v.OOB = "outerHTML"
		out = append(out, h.renderChat("chat_message", v)...)
	}
	return out
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
