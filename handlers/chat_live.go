package handlers

import (
	"context"

	"fleetprompt/store"
)

// registerChatLive renders chat signals for a conversation's stream
// (topic chat:<id>, its owner's alone): new messages and finished answers
// as bubbles, proposals and confirmations as cards. The tenant stream
// gets the generic activity row, which names no content.
func (h *Handler) registerChatLive() {
	h.live.Render("chat.", h.liveChat)
}

type chatPayload struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	ActionID       string `json:"action_id"`
}

// liveMessage reads a signal's message and its conversation. The
// renderer has no viewer: the conversation is read by its owner's id,
// found through the message.
func (h *Handler) liveMessage(ctx context.Context, t store.Tenant, p chatPayload) (store.Conversation, store.ChatMessage, error) {
	m, err := h.store.ChatMessage(ctx, t, p.ConversationID, p.MessageID)
	if err != nil {
		return store.Conversation{}, m, err
	}
	conv, err := h.store.ConversationByID(ctx, t, p.ConversationID)
	return conv, m, err
}
