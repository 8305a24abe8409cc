package handlers

import (
	"bytes"
	"context"

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
	return h.threads.cache.Fragment(schema, v.Post.ThreadID, postSlot(v), postFragmentKey(v), render)
}

// postFragmentWith is postFragment for post p read without its body,
// split (fragmentSegs); key is postFragmentKey of its view ("" without a
// memo): load reads the body, only when the fragment must be rendered.
func (h *Handler) postFragmentWith(schema string, p *store.ForumPost, th store.ForumThread, mod bool, key string, load func() error) (*fragmentSegs, error) {
	render := func() (string, error) {
		if err := load(); err != nil {
			return "", err
		}
		v := postView(*p, th, mod)
		v.placeholderKeys = true
		return h.renderBlock("forum_post", v)
	}
	return h.fragmentSegs(schema, p.ThreadID, postSlot(postMeta(*p, th, mod)), key, render)
}

// postFragmentKept says the memo holds v's fragment as it is now (key:
// postFragmentKey(v)).
func (h *Handler) postFragmentKept(schema string, v forumPostView, key string) bool {
	return h.threads.cache.Has(schema, v.Post.ThreadID, postSlot(v), key)
}

// postSlot is v's place in its thread's memo: one per post and audience.
func postSlot(v forumPostView) string {
	if v.Moderator {
		return "post " + v.Post.ID + " m"
	}
	return "post " + v.Post.ID
}

// auditFragment is the "audit_row" block of e, from the same memo, split.
func (h *Handler) auditFragment(schema, threadID string, e store.AuditEntry) (*fragmentSegs, error) {
	render := func() (string, error) { return h.renderBlock("audit_row", auditRowView{Entry: e}) }
	if h.threads == nil {
		return h.fragmentSegs(schema, threadID, "", "", render)
	}
	return h.fragmentSegs(schema, threadID, e.ElementID(), auditFragmentKey(e), render)
}

// threadPosts renders the fragments of a page's posts, read without
// their bodies (store.ForumThreadPage): the bodies of those whose fragment
// is not in the memo are read in one statement first; one evicted between
// that look and its render reads its own.
func (h *Handler) threadPosts(ctx context.Context, t store.Tenant, posts []store.ForumPost, th store.ForumThread, mod bool) ([]*fragmentSegs, error) {
	schema := t.Schema()
	// have[i]: post i's body is read, or its fragment does not show it;
	// keys[i] its fragment's version, named once.
	have, keys := make([]bool, len(posts)), make([]string, len(posts))
	var need []*store.ForumPost
	for i := range posts {
		v := postMeta(posts[i], th, mod)
		if h.threads != nil {
			keys[i] = postFragmentKey(v)
		}
		switch {
		case !v.showsBody():
			have[i] = true
		case h.threads == nil || !h.postFragmentKept(schema, v, keys[i]):
			need, have[i] = append(need, &posts[i]), true
		}
	}
	if err := h.store.ForumPostBodies(ctx, t, th.ID, need); err != nil {
		return nil, err
	}
	out := make([]*fragmentSegs, len(posts))
	for i := range posts {
		load := func() error {
			if have[i] {
				return nil
			}
			return h.store.ForumPostBodies(ctx, t, th.ID, []*store.ForumPost{&posts[i]})
		}
		f, err := h.postFragmentWith(schema, &posts[i], th, mod, keys[i], load)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func (h *Handler) renderBlock(block string, data any) (string, error) {
	var buf bytes.Buffer
	if err := h.views.Render(&buf, "forum_thread", block, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}
