package handlers

import (
	"html/template"

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
