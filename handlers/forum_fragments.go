package handlers

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"strconv"
	"strings"

	"fleetprompt/store"
)

// The thread page is mostly its posts and audit rows, and each renders the
// same way on every view until the row changes: executing their template
// blocks was most of the page's CPU (html/template calls every escaper
// and function through reflection, ~60 calls for a post with moderation
// forms). So the page renders each post and audit row once, from the same
// "forum_post" and "audit_row" blocks the live layer uses, into the
// thread cache's fragment memo (thread_cache.go), keyed by everything the
// block reads.
//
// The one part that must differ per render is a moderation form's
// idempotency key (a resent form reuses its key, a new render gets new
// ones). Cached markup holds a placeholder for each key, and every page
// written stamps fresh keys over the placeholders (keyStamp).

// keyPlaceholder stands for an idempotency key in cached markup: it has a
// key's shape (32 hex digits), so it comes out of the attribute escaper
// unchanged, and a random key equal to it would take 2^128 tries.
const keyPlaceholder = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"

// postFragmentKey names everything the "forum_post" block reads (an edit
// changes the HTML and the revision, a moderation the status, a reaction
// the counts, the thread its state, starter and solution: updated_at
// adds nothing); seed hashes the post's HTML (it is fixed for the
// process: keys only meet keys it made).
func postFragmentKey(seed maphash.Seed, v forumPostView) string {
	p, th := v.Post, v.Thread
	var b strings.Builder
	b.Grow(240 + len(p.AuthorName))
	for _, s := range []string{"post", p.ID, p.ThreadID, p.Status, strconv.FormatInt(p.CreatedAt.UnixNano(), 36),
		strconv.FormatUint(maphash.String(seed, string(v.HTML)), 36), strconv.FormatBool(v.Moderator),
		p.AuthorType, p.AuthorID.String, p.ExecutionID.String, strconv.Itoa(p.Revision),
		strconv.FormatInt(p.EditedAt.Time.UnixNano(), 36), strconv.FormatBool(p.FlagHidden),
		th.State, strconv.FormatInt(th.StarterID, 10), strconv.FormatBool(v.IsSolution()), strconv.FormatBool(v.IsOpening()),
		strconv.FormatBool(th.FirstPostID == "")} {
		b.WriteString(s)
		b.WriteByte(' ')
	}
	for _, k := range store.ReactionKinds {
		b.WriteString(strconv.Itoa(p.Reactions[k.Name]))
		b.WriteByte(' ')
	}
	b.WriteString(p.AuthorName) // last: free text
	return b.String()
}

// auditFragmentKey names everything the "audit_row" block reads.
func auditFragmentKey(e store.AuditEntry) string {
	var b strings.Builder
	for _, s := range []string{"audit", e.Kind, e.Key, e.Name, strconv.FormatInt(e.At.UnixNano(), 36),
		e.ActorType.String, e.ActorID.String, e.SubjectType.String, e.SubjectID.String, e.Status,
		strconv.FormatInt(e.DoneAt.Time.UnixNano(), 36), e.ActorName, e.Error} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	for _, f := range e.Facts {
		b.WriteString(strconv.FormatInt(f.Seq, 36))
		b.WriteByte(' ')
		b.WriteString(f.Name)
		b.WriteByte(0)
	}
	return b.String()
}

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

// keyStamp makes the fresh idempotency keys of one page: they share a
// random 12-byte prefix and count in the last 4 bytes, so they are unique
// within the page and unguessable across pages, for one read of
// crypto/rand per page instead of one per form (a moderator's page has a
// hundred forms).
type keyStamp struct {
	key  [16]byte
	next uint32
	read bool
}

// append appends the next key, 32 hex digits, to dst.
func (k *keyStamp) append(dst []byte) []byte {
	if !k.read {
		if _, err := rand.Read(k.key[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		k.next, k.read = binary.BigEndian.Uint32(k.key[12:]), true
	}
	binary.BigEndian.PutUint32(k.key[12:], k.next)
	k.next++
	var h [32]byte
	hex.Encode(h[:], k.key[:])
	return append(dst, h[:]...)
}

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
