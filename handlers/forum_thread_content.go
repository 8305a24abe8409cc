package handlers

import (
	"bytes"

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
	var fs *frameSegs
	if h.threads == nil || p.Form.Invalid() || len(p.Form.Values) > 0 {
		frame, err := render()
		if err != nil {
			return nil, err
		}
		fs = parseFrame(frame)
	} else {
		slot := "frame " + threadKey(d.Pager.Page, d.Moderator, d.AuditBefore)
		_, v, err := h.threads.cache.FragmentParsed(schema, d.Thread.ID, slot, frameKey(d), render, parsedFrame)
		if err != nil {
			return nil, err
		}
		fs = v.(*frameSegs)
	}
	n := len(fs.head.segs) + len(fs.mid.segs) + len(fs.tail.segs)
	for _, f := range d.posts {
		n += len(f.segs)
	}
	for _, f := range d.audit {
		n += len(f.segs)
	}
	tc := &threadContent{threadID: d.Thread.ID, title: d.Thread.Title, seq: d.Seq, segs: make([]segment, 0, n)}
	tc.addSegs(fs.head)
	for _, f := range d.posts {
		tc.addSegs(f)
	}
	tc.addSegs(fs.mid)
	for _, f := range d.audit {
		tc.addSegs(f)
	}
	tc.addSegs(fs.tail)
	return tc, nil
}
