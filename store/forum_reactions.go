package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Reactions (SPEC §16): a small fixed set of kinds, one per person, post
// and kind, toggled. The counts live on the post's row (forum_posts
// .reactions), so a thread page reads them with its posts; who reacted is
// forum_reactions. Authors do not react to their own posts, as in
// Discourse.

// ReactionKind is one kind of reaction as the page shows it.
type ReactionKind struct {
	Name  string // as stored and posted: "like"
	Emoji string
	Label string // what the button says to a screen reader: "Like"
}

// ReactionKinds are the kinds, in the order a post shows them.
var ReactionKinds = []ReactionKind{
	{"like", "👍", "Like"},
	{"heart", "❤️", "Love"},
	{"laugh", "😄", "Funny"},
	{"celebrate", "🎉", "Celebrate"},
}

// ValidReactionKind reports whether kind is one of ReactionKinds.
func ValidReactionKind(kind string) bool {
	return slices.ContainsFunc(ReactionKinds, func(k ReactionKind) bool { return k.Name == kind })
}

// ReactionCounts is a post's count per kind (kinds nobody chose are
// absent or 0).
type ReactionCounts map[string]int

// Scan reads the jsonb column.
func (r *ReactionCounts) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*r = nil
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("reaction counts: cannot scan %T", src)
	}
	m := ReactionCounts{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("reaction counts: %w", err)
	}
	*r = m
	return nil
}

// Total is the number of reactions of every kind.
func (r ReactionCounts) Total() int {
	n := 0
	for _, c := range r {
		n += c
	}
	return n
}

// Reaction asks for one person's reaction to a post.
type Reaction struct {
	PostID string
	Kind   string
	// Had is what the form showed the person (did they have this
	// reaction?): the answer sets the opposite, so a form sent twice
	// changes nothing the second time. nil toggles whatever is stored.
	Had *bool
}

// ReactionResult is the post after a reaction, and whether its reactor
// has the kind now.
type ReactionResult struct {
	Post    ForumPost
	Thread  ForumThread
	Has     bool
	Changed bool
}

// React adds or takes back userID's reaction, with forum.post.reacted or
// forum.post.unreacted (who reacted is the actor; the post's author is
// named in the payload for notifications). A post members cannot see is
// not found for them (all=false); moderators (all=true) are told it takes
// no reactions. Reacting to your own post, to an unpublished one, or in
// an archived thread is a *ValidationError.
func (s *Store) React(ctx context.Context, t Tenant, userID int64, all bool, r Reaction) (ReactionResult, error) {
	var out ReactionResult
	if !IsUUID(r.PostID) {
		return out, ErrNotFound
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		// The post first: another tenant's is not found, whatever the kind.
		p, th, err := s.lockPostTx(ctx, tx, t, r.PostID)
		if err != nil {
			return err
		}
		if !ValidReactionKind(r.Kind) {
			return Invalid("kind", "choose one of the reactions: like, heart, laugh or celebrate")
		}
		if err := reactable(p, th, userID, all); err != nil {
			return err
		}
		has, err := s.hasReactionTx(ctx, tx, t, p.ID, userID, r.Kind)
		if err != nil {
			return err
		}
		want := !has
		if r.Had != nil {
			want = !*r.Had
		}
		out = ReactionResult{Post: p, Thread: th, Has: want, Changed: want != has}
		if !out.Changed {
			return nil
		}
		if out.Post, err = s.setReactionTx(ctx, tx, t, p, userID, r.Kind, want); err != nil {
			return err
		}
		name := "forum.post.reacted"
		if !want {
			name = "forum.post.unreacted"
		}
		payload := postFactPayload(out.Post, th)
		payload["kind"], payload["count"] = r.Kind, out.Post.Reactions[r.Kind]
		return s.emitForum(ctx, tx, t, forumFact{Name: name, ActorUserID: userID,
			SubjectType: SubjectForumPost, SubjectID: p.ID, Payload: payload})
	})
	return out, err
}

// reactable says why p takes no reaction from userID, if it does not.
func reactable(p ForumPost, th ForumThread, userID int64, all bool) error {
	switch {
	case !p.Visible() && !all:
		return ErrNotFound
	case !p.Visible():
		return Invalid("", "This post is "+p.Status+": it takes no reactions.")
	case p.ByUser(userID):
		return Invalid("", "You can't react to your own post.")
	case th.State() == ThreadArchived:
		return Invalid("", "This thread is archived: its posts take no reactions.")
	}
	return nil
}

func (s *Store) hasReactionTx(ctx context.Context, tx *sqlx.Tx, t Tenant, postID string, userID int64, kind string) (bool, error) {
	var n int
	if err := tx.GetContext(ctx, &n, t.SQL(`SELECT count(*) FROM {tenant}.forum_reactions WHERE post_id = $1 AND user_id = $2 AND kind = $3`),
		postID, userID, kind); err != nil {
		return false, fmt.Errorf("read reaction: %w", err)
	}
	return n > 0, nil
}

// setReactionTx writes the reaction (or removes it) and moves the post's
// count, returning the post as it is now. The caller holds the post's row.
func (s *Store) setReactionTx(ctx context.Context, tx *sqlx.Tx, t Tenant, p ForumPost, userID int64, kind string, on bool) (ForumPost, error) {
	q, delta := `INSERT INTO {tenant}.forum_reactions (post_id, user_id, kind) VALUES ($1, $2, $3)`, 1
	if !on {
		q, delta = `DELETE FROM {tenant}.forum_reactions WHERE post_id = $1 AND user_id = $2 AND kind = $3`, -1
	}
	if _, err := tx.ExecContext(ctx, t.SQL(q), p.ID, userID, kind); err != nil {
		return p, fmt.Errorf("write reaction: %w", err)
	}
	// updated_at stays: a reaction is not a change of the post.
	var out ForumPost
	err := tx.GetContext(ctx, &out, t.SQL(`WITH p AS (
			UPDATE {tenant}.forum_posts SET reactions = jsonb_set(reactions, ARRAY[$2::text],
				to_jsonb(greatest(coalesce((reactions->>$2)::int, 0) + $3, 0)))
			WHERE id = $1 RETURNING *)
		SELECT `+postColumns+` FROM p `+postAuthor), p.ID, kind, delta)
	if err != nil {
		return p, fmt.Errorf("count reaction: %w", err)
	}
	return out, nil
}

// ViewerReactions returns which of postIDs userID reacted to, and with
// which kinds: the page marks the viewer's own reactions as pressed.
func (s *Store) ViewerReactions(ctx context.Context, t Tenant, userID int64, postIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if userID == 0 || len(postIDs) == 0 {
		return out, nil
	}
	rows, err := s.queryPrepared(ctx, t.SQL(`SELECT post_id::text, kind FROM {tenant}.forum_reactions
		WHERE user_id = $1 AND post_id = ANY($2::uuid[])`), userID, pq.Array(postIDs))
	if err != nil {
		return nil, fmt.Errorf("reactions of user %d: %w", userID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var post, kind string
		if err := rows.Scan(&post, &kind); err != nil {
			return nil, fmt.Errorf("reactions of user %d: %w", userID, err)
		}
		out[post] = append(out[post], kind)
	}
	return out, rows.Err()
}

// lockPostTx reads a post with its thread and locks both rows, thread
// first (the order replies and moderation take them in). A malformed or
// foreign id is ErrNotFound.
func (s *Store) lockPostTx(ctx context.Context, tx *sqlx.Tx, t Tenant, postID string) (ForumPost, ForumThread, error) {
	var p ForumPost
	var th ForumThread
	if !IsUUID(postID) {
		return p, th, ErrNotFound
	}
	var threadID string
	err := tx.GetContext(ctx, &threadID, t.SQL(`SELECT thread_id FROM {tenant}.forum_posts WHERE id = $1`), postID)
	if errors.Is(err, sql.ErrNoRows) {
		return p, th, ErrNotFound
	} else if err != nil {
		return p, th, fmt.Errorf("post %s: %w", postID, err)
	}
	if th, err = s.lockThreadTx(ctx, tx, t, threadID); err != nil {
		return p, th, fmt.Errorf("lock thread of post %s: %w", postID, err)
	}
	if err := tx.GetContext(ctx, &p, t.SQL(postSelect+`WHERE p.id = $1 FOR UPDATE OF p`), postID); err != nil {
		return p, th, fmt.Errorf("lock post %s: %w", postID, err)
	}
	return p, th, nil
}

// postFactPayload is what every signal about a post carries: where it is,
// and who wrote it (post_author_user_id for a person, so a notification
// knows whom the fact concerns).
func postFactPayload(p ForumPost, th ForumThread) map[string]any {
	m := map[string]any{"post_id": p.ID, "thread_id": p.ThreadID, "category_id": th.CategoryID, "category_slug": th.CategorySlug,
		"post_author_type": p.AuthorType, "post_author_id": p.AuthorID.String}
	if id := p.AuthorUserID(); id != 0 {
		m["post_author_user_id"] = id
	}
	return m
}
