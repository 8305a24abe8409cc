package handlers

import (
	"bytes"
	"strings"

	"fleetprompt/views"
)

// threadContent renders p's "thread" block (p.Data a *forumThreadData)
// and joins its posts and audit rows into it: a page the cache can keep.
// With an empty form, the block is the same for every view until the
// thread changes, so it comes from the fragment memo too (frameKey).
func (h *Handler) threadContent(schema string, p *views.Page) (*threadContent, error) {
	d := p.Data.(*forumThreadData)
	render := func() (string, error) {
		var buf bytes.Buffer
		err := h.views.Render(&buf, "forum_thread", "thread", p)
		return buf.String(), err
	}
	var frame string
	var err error
	if h.threads == nil || p.Form.Invalid() || len(p.Form.Values) > 0 {
		frame, err = render()
	} else {
		slot := "frame " + threadKey(d.Pager.Page, d.Moderator, d.AuditBefore)
		frame, err = h.threads.cache.Fragment(schema, d.Thread.ID, slot, frameKey(d), render)
	}
	if err != nil {
		return nil, err
	}
	head, rest, _ := strings.Cut(frame, postsMark)
	mid, tail, _ := strings.Cut(rest, auditMark)
	tc := &threadContent{threadID: d.Thread.ID, title: d.Thread.Title, seq: d.Seq}
	tc.add(head)
	for _, f := range d.posts {
		tc.add(f)
	}
	tc.add(mid)
	for _, f := range d.audit {
		tc.add(f)
	}
	tc.add(tail)
	return tc, nil
}
