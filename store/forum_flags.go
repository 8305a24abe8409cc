package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Flags (SPEC §16): members flag a post, once each, with a reason; the
// post's flags wait in the moderators' queue (/admin/flags) until one
// reviews them. A post with FlagsToHide open flags is hidden until then.
// Who flagged is for moderators only: the signals name no flagger, and
// their subject is the flag (forum_flag), which keeps them out of the
// thread's audit trail that every member reads.

// FlagsToHide is how many open flags hide a post.
const FlagsToHide = 3

// MaxFlagNote bounds what a flagger may add, in characters.
const MaxFlagNote = 500

// SubjectForumFlag is the subject type of flag signals.
const SubjectForumFlag = "forum_flag"

// Flag statuses: open until reviewed; a review leaves the post as it is
// (reviewed), says the flags were wrong (dismissed), or hides the post
// (action_taken).
const (
	FlagOpen        = "open"
	FlagReviewed    = "reviewed"
	FlagDismissed   = "dismissed"
	FlagActionTaken = "action_taken"
)

// FlagReason is one reason a flag can give.
type FlagReason struct {
	Name, Label, Hint string
}

// FlagReasons are the reasons, in the order the flag form offers them.
var FlagReasons = []FlagReason{
	{"spam", "Spam", "Advertising, or links that do not belong here."},
	{"inappropriate", "Inappropriate", "Rude, abusive or offensive."},
	{"off_topic", "Off-topic", "Not about what this thread discusses."},
	{"other", "Something else", "Tell the moderators what is wrong, in the note."},
}

// FlagReasonLabel is a reason in words.
func FlagReasonLabel(name string) string {
	for _, r := range FlagReasons {
		if r.Name == name {
			return r.Label
		}
	}
	return name
}

// NewFlag is the flag form (fields reason, note).
type NewFlag struct {
	PostID string
	Reason string
	Note   string
}

func (n NewFlag) validate() error {
	v := &ValidationError{}
	if !slices.ContainsFunc(FlagReasons, func(r FlagReason) bool { return r.Name == n.Reason }) {
		v.Add("reason", "choose why you flag this post")
	}
	switch {
	case utf8.RuneCountInString(n.Note) > MaxFlagNote:
		v.Add("note", fmt.Sprintf("is too long: at most %d characters", MaxFlagNote))
	case n.Reason == "other" && n.Note == "":
		v.Add("note", "say what is wrong with the post, so moderators know what to look for")
	}
	return v.OrNil()
}

// Flag is one member's flag of a post.
type Flag struct {
	ID         string         `db:"id"`
	PostID     string         `db:"post_id"`
	UserID     int64          `db:"user_id"`
	UserName   string         `db:"user_name"`
	Reason     string         `db:"reason"`
	Note       string         `db:"note"`
	Status     string         `db:"status"`
	ReviewerID sql.NullInt64  `db:"reviewed_by_user_id"`
	Reviewer   sql.NullString `db:"reviewer_name"`
	ReviewedAt sql.NullTime   `db:"reviewed_at"`
	CreatedAt  time.Time      `db:"created_at"`
}

// ReasonLabel is the flag's reason in words.
func (f Flag) ReasonLabel() string { return FlagReasonLabel(f.Reason) }

// FlagResult is what a new flag did: Hidden when it was the one that hid
// the post.
type FlagResult struct {
	Flag   Flag
	Post   ForumPost
	Hidden bool
	Open   int // the post's open flags, this one included
}

// FlagPost records userID's flag with forum.post.flagged, and, when it is
// the post's FlagsToHide-th open flag, hides the post (forum.post.hidden,
// reason "flags") in the same transaction. A post the member cannot see
// is not found; their own post, a second flag of theirs, or a bad reason
// or note is a *ValidationError.
func (s *Store) FlagPost(ctx context.Context, t Tenant, userID int64, n NewFlag) (FlagResult, error) {
	var out FlagResult
	n.Note = strings.TrimSpace(n.Note)
	if !IsUUID(n.PostID) {
		return out, ErrNotFound
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		p, th, err := s.lockPostTx(ctx, tx, t, n.PostID)
		if err != nil {
			return err
		}
		switch {
		case !p.Visible():
			return ErrNotFound
		case p.ByUser(userID):
			return Invalid("", "This is your own post: edit it instead of flagging it.")
		}
		if err := n.validate(); err != nil {
			return err
		}
		err = tx.GetContext(ctx, &out.Flag, t.SQL(`INSERT INTO {tenant}.forum_flags (post_id, user_id, reason, note)
			VALUES ($1, $2, $3, $4) ON CONFLICT (post_id, user_id) DO NOTHING
			RETURNING id, post_id, user_id, reason, note, status, created_at`), p.ID, userID, n.Reason, n.Note)
		if errors.Is(err, sql.ErrNoRows) {
			return Invalid("", "You flagged this post already: moderators will look at it.")
		} else if err != nil {
			return fmt.Errorf("insert flag: %w", err)
		}
		if err := tx.GetContext(ctx, &out.Open, t.SQL(`SELECT count(*) FROM {tenant}.forum_flags WHERE post_id = $1 AND status = 'open'`), p.ID); err != nil {
			return fmt.Errorf("count flags: %w", err)
		}
		out.Post = p
		payload := postFactPayload(p, th)
		payload["flag_id"], payload["reason"], payload["open_flags"] = out.Flag.ID, n.Reason, out.Open
		if err := s.emitForum(ctx, tx, t, forumFact{Name: "forum.post.flagged",
			SubjectType: SubjectForumFlag, SubjectID: out.Flag.ID, Payload: payload}); err != nil {
			return err
		}
		if out.Open < FlagsToHide {
			return nil
		}
		out.Hidden = true
		return s.hideByFlagsTx(ctx, tx, t, p, th)
	})
	return out, err
}

// hideByFlagsTx hides a post its flags hid, as the system.
func (s *Store) hideByFlagsTx(ctx context.Context, tx *sqlx.Tx, t Tenant, p ForumPost, th ForumThread) error {
	if err := s.movePostTx(ctx, tx, t, p, PostHidden, true); err != nil {
		return err
	}
	payload := postFactPayload(p, th)
	payload["status"], payload["reason"] = PostHidden, "flags"
	return s.emitForum(ctx, tx, t, forumFact{Name: "forum.post.hidden", SubjectType: SubjectForumPost, SubjectID: p.ID, Payload: payload})
}

// FlagReview is what a moderator's review of a post's flags did.
type FlagReview struct {
	PostID   string
	ThreadID string
	Flags    int  // the open flags it closed; 0: none were open
	Restored bool // the flags had hidden the post: it is back
	// Hide is the directive that hides the post (action_taken on a
	// published post), "" otherwise.
	Hide string
}

// ReviewFlags closes every open flag of flagID's post with status, as
// moderatorID: reviewed and dismissed bring back a post its flags had
// hidden (forum.post.unhidden); action_taken asks for the post to be
// hidden (a forum.post.hide directive, in this transaction) or keeps it
// hidden as a moderator's decision. forum.flag.reviewed records it. A
// post whose flags are all closed already changes nothing.
func (s *Store) ReviewFlags(ctx context.Context, t Tenant, moderatorID int64, flagID, status string) (FlagReview, error) {
	var out FlagReview
	if !IsUUID(flagID) {
		return out, ErrNotFound
	}
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &out.PostID, t.SQL(`SELECT post_id::text FROM {tenant}.forum_flags WHERE id = $1`), flagID); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("flag %s: %w", flagID, err)
		}
		if status != FlagReviewed && status != FlagDismissed && status != FlagActionTaken {
			return Invalid("status", "choose reviewed, dismissed or action_taken")
		}
		p, th, err := s.lockPostTx(ctx, tx, t, out.PostID)
		if err != nil {
			return err
		}
		out.ThreadID = th.ID
		res, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_flags SET status = $2, reviewed_by_user_id = $3, reviewed_at = now()
			WHERE post_id = $1 AND status = 'open'`), p.ID, status, moderatorID)
		if err != nil {
			return fmt.Errorf("review flags of post %s: %w", p.ID, err)
		}
		n, _ := res.RowsAffected()
		if out.Flags = int(n); n == 0 {
			return nil
		}
		if err := s.settleFlaggedPostTx(ctx, tx, t, moderatorID, p, th, status, flagID, &out); err != nil {
			return err
		}
		payload := postFactPayload(p, th)
		payload["status"], payload["flags"], payload["flag_id"] = status, out.Flags, flagID
		return s.emitForum(ctx, tx, t, forumFact{Name: "forum.flag.reviewed", ActorUserID: moderatorID,
			SubjectType: SubjectForumFlag, SubjectID: flagID, Payload: payload})
	})
	return out, err
}

// settleFlaggedPostTx applies a review's outcome to the post.
func (s *Store) settleFlaggedPostTx(ctx context.Context, tx *sqlx.Tx, t Tenant, moderatorID int64, p ForumPost, th ForumThread,
	status, flagID string, out *FlagReview) error {
	switch {
	case status != FlagActionTaken && p.FlagHidden && p.Status == PostHidden:
		if err := s.movePostTx(ctx, tx, t, p, PostPublished, false); err != nil {
			return err
		}
		out.Restored = true
		payload := postFactPayload(p, th)
		payload["status"], payload["reason"] = PostPublished, "flags reviewed"
		return s.emitForum(ctx, tx, t, forumFact{Name: "forum.post.unhidden", ActorUserID: moderatorID,
			SubjectType: SubjectForumPost, SubjectID: p.ID, Payload: payload})
	case status == FlagActionTaken && p.Status == PostPublished:
		d, _, err := s.RequestDirectiveTx(ctx, tx, t, DirectiveRequest{Kind: DirectivePostHide,
			Payload: ForumModeration{ThreadID: th.ID, PostID: p.ID}, IdempotencyKey: "flags:" + flagID, UserID: moderatorID,
			Subject: Subject{Type: SubjectForumPost, ID: p.ID}})
		out.Hide = d.ID
		return err
	case status == FlagActionTaken && p.FlagHidden:
		// Hidden by its flags, and now by a moderator's decision: a later
		// review (there is none) or unhide is theirs to make.
		_, err := tx.ExecContext(ctx, t.SQL(`UPDATE {tenant}.forum_posts SET flag_hidden = false WHERE id = $1`), p.ID)
		return err
	}
	return nil
}

// FlaggedPost is one row of the moderation queue: a post and its flags.
type FlaggedPost struct {
	Post   ForumPost
	Thread string // the thread's title
	Flags  []Flag
	// FlagID names the post's flags in the review form (any one of them
	// stands for all: a review closes them together).
	FlagID string
}

// FlagQueue lists the posts with open flags, oldest flag first (open),
// or the reviewed flags' posts, latest review first (!open); one page.
func (s *Store) FlagQueue(ctx context.Context, t Tenant, open bool, page int) ([]FlaggedPost, Pager, error) {
	page = normPage(page)
	const per = 20
	q := `SELECT post_id::text FROM {tenant}.forum_flags WHERE status = 'open'
		GROUP BY post_id ORDER BY min(created_at), post_id LIMIT $1 OFFSET $2`
	if !open {
		q = `SELECT post_id::text FROM {tenant}.forum_flags WHERE status <> 'open'
			GROUP BY post_id ORDER BY max(reviewed_at) DESC, post_id LIMIT $1 OFFSET $2`
	}
	var ids []string
	if err := s.DB.SelectContext(ctx, &ids, t.SQL(q), per+1, (page-1)*per); err != nil {
		return nil, Pager{}, fmt.Errorf("flag queue: %w", err)
	}
	pager := Pager{Page: page, HasPrev: page > 1, HasNext: len(ids) > per}
	if pager.HasNext {
		ids = ids[:per]
	}
	out, err := s.flaggedPosts(ctx, t, ids, open)
	return out, pager, err
}

// flaggedPosts reads the posts of ids (in that order) with their flags:
// the open ones, or the reviewed ones.
func (s *Store) flaggedPosts(ctx context.Context, t Tenant, ids []string, open bool) ([]FlaggedPost, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var posts []struct {
		ForumPost
		Title string `db:"thread_title"`
	}
	if err := s.DB.SelectContext(ctx, &posts, t.SQL(`SELECT `+postColumns+`, th.title AS thread_title
		FROM {tenant}.forum_posts p JOIN {tenant}.forum_threads th ON th.id = p.thread_id `+postAuthor+`
		WHERE p.id = ANY($1::uuid[])`), pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("flagged posts: %w", err)
	}
	var flags []Flag
	if err := s.DB.SelectContext(ctx, &flags, t.SQL(`SELECT f.id, f.post_id, f.user_id, coalesce(u.name, 'Someone') AS user_name,
			f.reason, f.note, f.status, f.reviewed_by_user_id, r.name AS reviewer_name, f.reviewed_at, f.created_at
		FROM {tenant}.forum_flags f
		LEFT JOIN public.users u ON u.id = f.user_id
		LEFT JOIN public.users r ON r.id = f.reviewed_by_user_id
		WHERE f.post_id = ANY($1::uuid[]) AND (f.status = 'open') = $2
		ORDER BY f.created_at, f.id`), pq.Array(ids), open); err != nil {
		return nil, fmt.Errorf("flags: %w", err)
	}
	byID := map[string]*FlaggedPost{}
	out := make([]FlaggedPost, 0, len(ids))
	for _, id := range ids {
		out = append(out, FlaggedPost{})
		byID[id] = &out[len(out)-1]
	}
	for _, p := range posts {
		if fp := byID[p.ID]; fp != nil {
			fp.Post, fp.Thread = p.ForumPost, p.Title
		}
	}
	for _, f := range flags {
		if fp := byID[f.PostID]; fp != nil {
			fp.Flags = append(fp.Flags, f)
			fp.FlagID = f.ID
		}
	}
	return out, nil
}

// OpenFlaggedPosts counts the posts waiting in the queue.
func (s *Store) OpenFlaggedPosts(ctx context.Context, t Tenant) (int, error) {
	var n int
	if err := s.DB.GetContext(ctx, &n, t.SQL(`SELECT count(DISTINCT post_id) FROM {tenant}.forum_flags WHERE status = 'open'`)); err != nil {
		return 0, fmt.Errorf("count flagged posts: %w", err)
	}
	return n, nil
}

// FlagOf is userID's flag of postID, ErrNotFound when they have none: the
// flag form says so instead of offering to flag twice.
func (s *Store) FlagOf(ctx context.Context, t Tenant, userID int64, postID string) (Flag, error) {
	var f Flag
	if !IsUUID(postID) {
		return f, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &f, t.SQL(`SELECT id, post_id, user_id, reason, note, status, created_at
		FROM {tenant}.forum_flags WHERE post_id = $1 AND user_id = $2`), postID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	} else if err != nil {
		return f, fmt.Errorf("flag of post %s: %w", postID, err)
	}
	return f, nil
}
