package handlers

import (
	"strconv"
	"strings"
)

// frameKey names everything the "thread" block reads when its form is
// empty (its posts and audit rows are joined in afterwards); it is kept
// in the slot of its page (threadKey).
func frameKey(d *forumThreadData) string {
	t, pg := d.Thread, d.Pager
	var b strings.Builder
	for _, s := range []string{"frame", t.ID, t.Title, t.Status, t.CategoryStatus, t.CategorySlug, t.CategoryName,
		strconv.FormatInt(d.Seq, 10), strconv.FormatBool(d.Moderator), strconv.Itoa(pg.Page), strconv.Itoa(pg.Pages),
		strconv.FormatBool(pg.HasPrev), strconv.FormatBool(pg.HasNext), d.AuditEarlier, d.AuditBefore,
		strconv.FormatBool(t.Pinned), t.SolutionPostID.String} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	// The answer at the top: its text and where it is.
	if sol := d.Solution.Solution; sol != nil {
		for _, s := range []string{sol.Post.ID, strconv.Itoa(sol.Post.Revision), strconv.Itoa(sol.Page), sol.Post.AuthorName, d.Solution.Excerpt()} {
			b.WriteString(s)
			b.WriteByte(0)
		}
	}
	return b.String()
}
