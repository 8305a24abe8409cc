package handlers

import "fleetprompt/store"

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
