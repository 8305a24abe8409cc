package handlers

import (
	"bytes"
	"context"

	"fleetprompt/store"
)

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
