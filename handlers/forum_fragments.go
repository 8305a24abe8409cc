package handlers

import (
	"bytes"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"

	"fleetprompt/store"
)

// The thread page is mostly its posts and audit rows, and each of those
// renders the same way on every view until the row changes: executing
// their template blocks was most of the page's CPU (html/template calls
// every escaper and function through reflection, ~60 calls per post with
// moderation forms). So the page renders each post and audit row once,
// from the same "forum_post" and "audit_row" blocks, and reuses the
// result, keyed by everything the block reads.
//
// The one part that must differ per render is a moderation form's
// idempotency key (a resent form reuses its key, a new render gets new
// ones). A cached fragment is rendered with a placeholder key, and every
// use stamps fresh keys over the placeholders.

// keyPlaceholder stands for an idempotency key in a cached fragment: it
// has a key's shape (32 hex digits), so it comes out of the attribute
// escaper unchanged, and a random key equal to it would take 2^128 tries.
const keyPlaceholder = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"

// fragmentGeneration bounds the cache: two generations of at most this
// many fragments (a moderator's post is ~2 KiB); a fragment used from the
// older generation moves to the newer, so hot threads stay.
const fragmentGeneration = 4096

// forumFragments is the process's cache of rendered posts and audit rows.
var forumFragments = newFragmentCache()

type fragmentCache struct {
	mu       sync.RWMutex
	cur, old map[string]string
}

func newFragmentCache() *fragmentCache {
	return &fragmentCache{cur: map[string]string{}, old: map[string]string{}}
}

// get returns the fragment of key, rendering it with render on a miss.
func (fc *fragmentCache) get(key string, render func() (string, error)) (string, error) {
	fc.mu.RLock()
	f, ok := fc.cur[key]
	if !ok {
		f, ok = fc.old[key]
	}
	fc.mu.RUnlock()
	if !ok {
		var err error
		if f, err = render(); err != nil {
			return "", err
		}
	}
	fc.mu.Lock()
	if _, in := fc.cur[key]; !in {
		if len(fc.cur) >= fragmentGeneration {
			fc.old, fc.cur = fc.cur, make(map[string]string, fragmentGeneration)
		}
		fc.cur[key] = f
	}
	fc.mu.Unlock()
	return f, nil
}

var fragmentSeed = maphash.MakeSeed()

// postFragmentKey names everything the "forum_post" block reads.
func postFragmentKey(v forumPostView) string {
	p := v.Post
	var b strings.Builder
	b.Grow(128)
	b.WriteString("post ")
	b.WriteString(p.ID)
	b.WriteByte(' ')
	b.WriteString(p.ThreadID)
	b.WriteByte(' ')
	b.WriteString(p.Status)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(p.CreatedAt.UnixNano(), 36))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(p.UpdatedAt.UnixNano(), 36))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(maphash.String(fragmentSeed, string(v.HTML)), 36))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatBool(v.Moderator))
	b.WriteByte(' ')
	b.WriteString(p.AuthorName) // last: free text
	return b.String()
}

// auditFragmentKey names everything the "audit_row" block reads.
func auditFragmentKey(e store.AuditEntry) string {
	return strings.Join([]string{"audit", e.Kind, e.Key, e.Name, strconv.FormatInt(e.At.UnixNano(), 36),
		e.ActorType.String, e.ActorID.String, e.SubjectType.String, e.SubjectID.String, e.Status,
		e.ActorName, e.Error}, "\x00")
}

// writePostFragment writes the "forum_post" block of v to w, with fresh
// keys.
func (h *Handler) writePostFragment(w *strings.Builder, v forumPostView) error {
	if v.Pending != "" {
		// A just-requested moderation shows on one answer only.
		b, err := h.renderBlock("forum_post", v)
		w.WriteString(b)
		return err
	}
	f, err := forumFragments.get(postFragmentKey(v), func() (string, error) {
		v.placeholderKeys = true
		return h.renderBlock("forum_post", v)
	})
	if err != nil {
		return err
	}
	stampKeys(w, f)
	return nil
}

// postFragment is the cached "forum_post" block of v with its key
// placeholders still in (stampKeys fills them).
func (h *Handler) postFragment(v forumPostView) (string, error) {
	return forumFragments.get(postFragmentKey(v), func() (string, error) {
		v.placeholderKeys = true
		return h.renderBlock("forum_post", v)
	})
}

// auditFragment is the "audit_row" block of e.
func (h *Handler) auditFragment(e store.AuditEntry) (string, error) {
	return forumFragments.get(auditFragmentKey(e), func() (string, error) {
		return h.renderBlock("audit_row", auditRowView{Entry: e})
	})
}

func (h *Handler) renderBlock(block string, data any) (string, error) {
	var buf bytes.Buffer
	if err := h.views.Render(&buf, "forum_thread", block, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// stampKeys writes f to w with a fresh key for each key placeholder.
func stampKeys(w *strings.Builder, f string) {
	for i := strings.Index(f, keyPlaceholder); i >= 0; i = strings.Index(f, keyPlaceholder) {
		w.WriteString(f[:i])
		w.WriteString(newModerationKey())
		f = f[i+len(keyPlaceholder):]
	}
	w.WriteString(f)
}
