package handlers

import (
	"context"

	"fleetprompt/store"
)

func (h *Handler) conversationData(ctx context.Context, t store.Tenant, a *auth, id string) (chatPageData, error) {
	conv, err := h.store.Conversation(ctx, t, a.Session.UserID, id)
	if err != nil {
		return chatPageData{}, err
	}
	// Read before the messages, so an event racing this read is sent
	// again (and skipped by element id), never lost.
	seq, err := h.store.LatestSignalSeq(ctx, t)
	if err != nil {
		return chatPageData{}, err
	}
	if err := h.store.FailStaleChat(ctx, t, conv.ID, chatStaleAfter); err != nil {
		return chatPageData{}, err
	}
	msgs, err := h.store.ChatMessages(ctx, t, conv.ID)
	if err != nil {
		return chatPageData{}, err
	}
	acts, err := h.store.ChatActions(ctx, t, conv.ID)
	if err != nil {
		return chatPageData{}, err
	}
	convs, err := h.store.Conversations(ctx, t, a.Session.UserID, 30)
	if err != nil {
		return chatPageData{}, err
	}
	byMsg := map[string][]chatActionView{}
	var orphans []chatActionView
	for _, act := range acts {
		v := h.chatActionOf(ctx, t, act, a.Member.IsAdmin())
		if act.MessageID == "" {
			orphans = append(orphans, v)
			continue
		}
		byMsg[act.MessageID] = append(byMsg[act.MessageID], v)
	}
	d := chatPageData{Conv: conv, Conversations: convs, Seq: seq, Provider: h.llmOn, IsAdmin: a.Member.IsAdmin()}
	for _, m := range msgs {
		d.Messages = append(d.Messages, h.chatMessageOf(conv, m, byMsg[m.ID]))
		d.Answering = d.Answering || m.Streaming()
	}
	if n := len(d.Messages); n > 0 {
		last := &d.Messages[n-1]
		last.Retry = last.Msg.Role == store.ChatAssistant && (last.Msg.Status == store.ChatFailed || last.Msg.Status == store.ChatStopped)
		last.Actions = append(last.Actions, orphans...)
	}
	return d, nil
}
