package handlers

import (
	"bytes"

	"fleetprompt/store"
)

// postFragment is the "forum_post" block of v with key placeholders
// (keyStamp fills them), from the memo of the thread's fragments.
func (h *Handler) postFragment(schema string, v forumPostView) (string, error) {
	v.placeholderKeys = true
	render := func() (string, error) { return h.renderBlock("forum_post", v) }
	if h.threads == nil {
		return render()
	}
	slot := "post " + v.Post.ID
	if v.Moderator {
		slot += " m"
	}
	return h.threads.cache.Fragment(schema, v.Post.ThreadID, slot, postFragmentKey(h.threads.seed, v), render)
}

// auditFragment is the "audit_row" block of e, from the same memo.
func (h *Handler) auditFragment(schema, threadID string, e store.AuditEntry) (string, error) {
	render := func() (string, error) { return h.renderBlock("audit_row", auditRowView{Entry: e}) }
	if h.threads == nil {
		return render()
	}
	return h.threads.cache.Fragment(schema, threadID, e.ElementID(), auditFragmentKey(e), render)
}

func (h *Handler) renderBlock(block string, data any) (string, error) {
	var buf bytes.Buffer
	if err := h.views.Render(&buf, "forum_thread", block, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}
