package handlers

import (
	"encoding/json"
	"strconv"
	"strings"

	"fleetprompt/store"
)

// What a signal mentions, read from its actor, subject and payload: the
// ids whose names readable activity looks up (activity_facts.go).

// signalRefs is what one signal mentions, read from its actor, subject
// and payload.
type signalRefs struct {
	payload                       map[string]any
	user, member                  int64
	agent, thread, post, cat, pkg string
}

func refsOf(sig store.Signal) signalRefs {
	r := signalRefs{payload: map[string]any{}}
	json.Unmarshal(sig.Payload, &r.payload) // a payload that is not an object mentions nothing
	str := func(k string) string { s, _ := r.payload[k].(string); return s }
	switch sig.ActorType {
	case "user":
		r.user, _ = strconv.ParseInt(sig.ActorID, 10, 64)
	case "agent":
		r.agent = sig.ActorID
	}
	if id, ok := r.payload["user_id"].(float64); ok && strings.HasPrefix(sig.Name, "member.") {
		r.member = int64(id)
	}
	if a := str("agent_id"); a != "" {
		r.agent = a
	}
	r.thread, r.post, r.pkg, r.cat = str("thread_id"), str("post_id"), str("package_slug"), str("category_slug")
	switch sig.SubjectType {
	case store.SubjectForumThread:
		r.thread = firstOf(r.thread, sig.SubjectID)
	case store.SubjectForumPost:
		r.post = firstOf(r.post, sig.SubjectID)
	case "package":
		r.pkg = firstOf(r.pkg, sig.SubjectID)
	case "agent":
		r.agent = firstOf(r.agent, sig.SubjectID)
	}
	if strings.HasPrefix(sig.Name, "forum.category.") {
		r.cat = firstOf(r.cat, str("slug"))
	}
	return r
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func appendSet(list []string, v string) []string {
	if v == "" {
		return list
	}
	return append(list, v)
}
