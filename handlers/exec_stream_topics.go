package handlers

import (
	"context"
	"time"

	"fleetprompt/handlers/live"
	"fleetprompt/store"
)

// topicView is an execution on one topic: the element its text grows in,
// and what brings a page up to date (the text so far, and whatever holds
// it when the page lacks it).
type topicView struct {
	topic   live.Topic
	target  string
	catchUp func(text string) []byte
}

// topics are where an execution shows.
func (r *ExecRelay) topics(t store.Tenant, ex store.Execution) []topicView {
	target := "exec-" + ex.ID + "-output"
	out := []topicView{{live.Topic{Kind: live.KindExecution, Arg: ex.ID}, target,
		func(text string) []byte { return replaceTextHTML(target, text) }}}
	c := ex.Context()
	switch ex.Purpose {
	case store.PurposeChat:
		if tv, ok := r.chatView(t, c); ok {
			out = append(out, tv)
		}
	case store.PurposeForumReply, store.PurposeWorkflow:
		if c.ThreadID != "" && (ex.Purpose == store.PurposeForumReply || c.ShowInThread) {
			target := "agent-answer-" + ex.ID + "-text"
			out = append(out, topicView{live.Topic{Kind: live.KindThread, Arg: c.ThreadID}, target,
				func(text string) []byte { return r.h.agentAnswerHTML(t, ex, text) }})
		}
	}
	return out
}

// chatView is a chat answer in its conversation: its bubble, added to
// pages that lack it.
func (r *ExecRelay) chatView(t store.Tenant, c store.ExecutionContext) (topicView, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conv, err := r.h.store.ConversationByID(ctx, t, c.ConversationID)
	if err != nil {
		return topicView{}, false
	}
	msg, err := r.h.store.ChatMessage(ctx, t, conv.ID, c.MessageID)
	if err != nil {
		return topicView{}, false
	}
	return topicView{live.Topic{Kind: live.KindChat, Arg: conv.ID}, "chat-msg-" + msg.ID + "-text",
		func(text string) []byte { return r.h.startedHTML(t, conv, nil, msg, text) }}, true
}
