package handlers

import "fleetprompt/store"

// liveReplyForm: a lock disables the reply button of every open copy
// (the server refuses the reply anyway) and says why, leaving the text
// typed so far; an unlock enables it again, and tells a page drawn while
// the thread was locked, which has no form, to reload.
func (h *Handler) liveReplyForm(th store.ForumThread, name string) ([]byte, error) {
	switch name {
	case "forum.thread.locked":
		b, err := h.block("reply_actions", map[string]any{"Open": false})
		return oob(b, "outerHTML"), err
	case "forum.thread.unlocked":
		if !th.Open() {
			return nil, nil // its category is archived
		}
		actions, err := h.block("reply_actions", map[string]any{"Open": true})
		if err != nil {
			return nil, err
		}
		reopened, err := h.block("reply_reopened", th.ID)
		if err != nil {
			return nil, err
		}
		return append(oob(actions, "outerHTML"), oob(reopened, "outerHTML")...), nil
	}
	return nil, nil
}
