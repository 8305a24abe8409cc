package handlers

import (
	"context"
	"encoding/json"
	"errors"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

func (h *Handler) liveChat(ctx context.Context, t store.Tenant, sig store.Signal) ([]live.Fragment, error) {
	var p chatPayload
	json.Unmarshal(sig.Payload, &p) // missing fields stay empty
	if p.ConversationID == "" {
		return nil, nil
	}
	switch sig.Name {
	case "chat.message.created", "chat.message.completed":
		conv, m, err := h.liveMessage(ctx, t, p)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if sig.Name == "chat.message.created" {
			return []live.Fragment{{Kind: live.KindChat, HTML: oobAppend("#chat-messages", h.renderChat("chat_message", h.chatMessageOf(conv, m, nil)))}}, nil
		}
		acts, err := h.store.ChatActions(ctx, t, conv.ID)
		if err != nil {
			return nil, err
		}
		bubble := func(admin bool) []byte {
			v := h.chatMessageOf(conv, m, nil)
			v.Retry = m.Role == store.ChatAssistant && (m.Status == store.ChatFailed || m.Status == store.ChatStopped)
			for _, act := range acts {
				if act.MessageID == m.ID {
					v.Actions = append(v.Actions, h.chatActionOf(ctx, t, act, admin))
				}
			}
			// Appended when the page lacks it (another process streamed
			// it), then replaced: the finished message, rendered.
			out := oobAppend("#chat-messages", h.renderChat("chat_message", v))
			v.OOB = "outerHTML"
			return append(out, h.renderChat("chat_message", v)...)
		}
		return []live.Fragment{
			{Kind: live.KindChat, HTML: bubble(false), For: live.MembersOnly},
			{Kind: live.KindChat, HTML: bubble(true), For: live.ModeratorsOnly},
		}, nil
	case "chat.action.proposed", "chat.action.confirmed":
		act, err := h.store.ChatAction(ctx, t, p.ConversationID, p.ActionID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		card := func(admin bool) []byte {
			v := h.chatActionOf(ctx, t, act, admin)
			if sig.Name == "chat.action.proposed" {
				return oobAppend("#chat-msg-"+act.MessageID+"-actions", h.renderChat("chat_action", v))
			}
			v.OOB = "outerHTML"
			return h.renderChat("chat_action", v)
		}
		return []live.Fragment{
			{Kind: live.KindChat, HTML: card(false), For: live.MembersOnly},
			{Kind: live.KindChat, HTML: card(true), For: live.ModeratorsOnly},
		}, nil
	}
	return nil, nil
}
