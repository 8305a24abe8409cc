package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Editing posts (SPEC §16): the author or a moderator replaces a post's
// text; the version it replaced is kept (forum_post_revisions) and shown
// in the post's history, and the post says it was edited.

// PostEdit is the edit form (fields body, revision).
type PostEdit struct {
	PostID string
	Body   string
	// BaseRevision is the version the form was opened on (0: whichever is
	// current). An edit made meanwhile by someone else is not overwritten
	// silently: the form comes back, on field "revision", to compare.
	BaseRevision int
}

// EditResult is the post after an edit, with its thread. Changed is false
// when the text was already this (a form sent twice): nothing was written.
type EditResult struct {
	Post    ForumPost
	Thread  ForumThread
	Changed bool
}

// CanEditPost says whether userID may edit p in th: its author while the
// thread is open, or a moderator unless the post was deleted. It is the
// rule EditPost applies, for pages deciding whether to offer the form.
func CanEditPost(p ForumPost, th ForumThread, userID int64, moderator bool) error {
	switch {
	case p.Status == PostDeleted:
		return Invalid("", "This post was deleted: it can no longer be edited.")
	case moderator:
		return nil
	case !p.ByUser(userID):
		return ErrForbidden
	case !p.Visible():
		return Invalid("", "This post is hidden by a moderator: it can't be edited now.")
	case !th.Open():
		return Invalid("", "This thread is "+th.State()+": its posts can no longer be edited.")
	}
	return nil
}

// EditPost replaces a post's text with forum.post.edited (the editor is
// the actor, the post's author named in the payload). A post the editor
// may not see is not found; one they may not edit is ErrForbidden or a
// *ValidationError saying why.
func (s *Store) EditPost(ctx context.Context, t Tenant, userID int64, moderator bool, e PostEdit) (EditResult, error) {
	var out EditResult
	if !IsUUID(e.PostID) {
		return out, ErrNotFound
	}
	body := strings.ReplaceAll(e.Body, "\r\n", "\n")
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		p, th, err := s.lockPostTx(ctx, tx, t, e.PostID)
		if err != nil {
			return err
		}
		if !p.Visible() && !moderator {
			return ErrNotFound
		}
		if err := CanEditPost(p, th, userID, moderator); err != nil {
			return err
		}
		v := &ValidationError{}
		checkPostContent(v, "body", body)
		if err := v.OrNil(); err != nil {
			return err
		}
		out = EditResult{Post: p, Thread: th}
		// Browsers send a textarea's line breaks as CRLF; replies were
		// stored as sent, so both sides are compared with LF.
		if body == strings.ReplaceAll(p.Content, "\r\n", "\n") {
			return nil // unchanged, or this very edit sent again
		}
		if e.BaseRevision != 0 && e.BaseRevision != p.Revision {
			return Invalid("revision", fmt.Sprintf("Someone edited this post while you were writing (it is now version %d). "+
				"Your text is kept below: compare it with the current version, then save again.", p.Revision))
		}
		if out.Post, err = s.replacePostTx(ctx, tx, t, p, userID, body); err != nil {
			return err
		}
		out.Changed = true
		payload := postFactPayload(out.Post, th)
		payload["revision"] = out.Post.Revision
		payload["by_moderator"] = !p.ByUser(userID)
		return s.emitForum(ctx, tx, t, forumFact{Name: "forum.post.edited", ActorUserID: userID,
			SubjectType: SubjectForumPost, SubjectID: p.ID, Payload: payload})
	})
	return out, err
}

// replacePostTx keeps p's current version as a revision and writes body
// as the next one, rendered once here.
func (s *Store) replacePostTx(ctx context.Context, tx *sqlx.Tx, t Tenant, p ForumPost, editor int64, body string) (ForumPost, error) {
	// The current version was written by the author (revision 1) or by
	// its editor.
	if _, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.forum_post_revisions
			(post_id, revision, content, content_html, written_by_type, written_by_id, written_at)
		SELECT p.id, p.revision, p.content, coalesce(p.content_html, $2),
			CASE WHEN p.edited_by_user_id IS NULL THEN p.author_type ELSE 'human' END,
			coalesce(p.edited_by_user_id::text, p.author_id), coalesce(p.edited_at, p.created_at)
		FROM {tenant}.forum_posts p WHERE p.id = $1`), p.ID, string(p.HTML())); err != nil {
		return p, fmt.Errorf("keep revision of post %s: %w", p.ID, err)
	}
	var out ForumPost
	if err := tx.GetContext(ctx, &out, t.SQL(`WITH p AS (
			UPDATE {tenant}.forum_posts SET content = $2, content_html = $3, revision = revision + 1,
				edited_at = now(), edited_by_user_id = $4, updated_at = now()
			WHERE id = $1 RETURNING *)
		SELECT `+postColumns+` FROM p `+postAuthor), p.ID, body, string(RenderMarkdown(body)), editor); err != nil {
		return p, fmt.Errorf("edit post %s: %w", p.ID, err)
	}
	return out, nil
}

// PostRevision is one version of a post, as its history shows it.
type PostRevision struct {
	Revision   int
	HTML       string // safe HTML, rendered when the version was written
	WriterName string
	WrittenAt  time.Time
	Current    bool
}

// PostRevisions lists a post's versions, the current one first, then the
// ones it replaced, newest first.
func (s *Store) PostRevisions(ctx context.Context, t Tenant, p ForumPost) ([]PostRevision, error) {
	var rows []struct {
		Revision  int       `db:"revision"`
		HTML      string    `db:"content_html"`
		Writer    string    `db:"writer"`
		WrittenAt time.Time `db:"written_at"`
	}
	if err := s.DB.SelectContext(ctx, &rows, t.SQL(`SELECT r.revision, r.content_html, r.written_at,
			coalesce(u.name, ag.name, CASE r.written_by_type WHEN 'system' THEN 'FleetPrompt' WHEN 'agent' THEN 'Agent' END, 'Someone') AS writer
		FROM {tenant}.forum_post_revisions r
		LEFT JOIN LATERAL (SELECT name FROM public.users
			WHERE id = CASE WHEN r.written_by_type = 'human' AND r.written_by_id ~ '^[0-9]{1,18}$' THEN r.written_by_id::bigint END) u ON true
		LEFT JOIN LATERAL (SELECT name FROM {tenant}.agents WHERE r.written_by_type = 'agent' AND id::text = r.written_by_id) ag ON true
		WHERE r.post_id = $1 ORDER BY r.revision DESC`), p.ID); err != nil {
		return nil, fmt.Errorf("revisions of post %s: %w", p.ID, err)
	}
	current := PostRevision{Revision: p.Revision, HTML: string(p.HTML()), WriterName: p.AuthorName, WrittenAt: p.CreatedAt, Current: true}
	if p.EditedAt.Valid {
		current.WrittenAt = p.EditedAt.Time
		name, err := s.editorName(ctx, p)
		if err != nil {
			return nil, err
		}
		current.WriterName = name
	}
	out := []PostRevision{current}
	for _, r := range rows {
		out = append(out, PostRevision{Revision: r.Revision, HTML: r.HTML, WriterName: r.Writer, WrittenAt: r.WrittenAt})
	}
	return out, nil
}

// editorName is who wrote p's current version.
func (s *Store) editorName(ctx context.Context, p ForumPost) (string, error) {
	var name string
	err := s.DB.GetContext(ctx, &name, `SELECT coalesce((SELECT name FROM public.users WHERE id = $1), 'Someone')`, p.EditedByUserID.Int64)
	if err != nil {
		return "", fmt.Errorf("editor of post %s: %w", p.ID, err)
	}
	return name, nil
}
