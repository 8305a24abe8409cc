package handlers

import (
	"context"

	"fleetprompt/store"
)

// threadData loads the thread page's data and renders its posts and
// audit rows (through the fragment memo). Moderators (owner, admin) get
// hidden and deleted posts as placeholders; members never get them.
func (h *Handler) threadData(ctx context.Context, t store.Tenant, id string, page int, mod bool,
	before store.AuditCursor, audit string) (*forumThreadData, error) {
	// The seq is read with the thread, before the posts and the audit
	// trail: an event racing this render is sent again at worst (and
	// skipped by element id), never lost.
	v, err := h.store.ForumThreadPage(ctx, t, id, mod, page, before)
	if err != nil {
		return nil, err
	}
	th, schema := v.Thread, t.Schema()
	d := &forumThreadData{Thread: th, Status: threadStatusView{Thread: th, Moderator: mod, placeholderKeys: true},
		Pager: v.Pager, Moderator: mod, Seq: v.Seq, AuditEarlier: v.Audit.Earlier, AuditBefore: audit,
		Solution: threadSolutionView{ThreadID: th.ID, Solution: v.Solution},
		Posts:    postsMark, Audit: auditMark,
		audit: make([]*fragmentSegs, 0, len(v.Audit.Entries))}
	if d.posts, err = h.threadPosts(ctx, t, v.Posts, th, mod); err != nil {
		return nil, err
	}
	for _, e := range v.Audit.Entries {
		f, err := h.auditFragment(schema, th.ID, e)
		if err != nil {
			return nil, err
		}
		d.audit = append(d.audit, f)
	}
	return d, nil
}
