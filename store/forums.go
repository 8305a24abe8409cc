package store

import (
	"context"
	"database/sql"
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Forum limits (SPEC §5). Lengths are in characters, as PostgreSQL's
// length() counts them, not bytes.
const (
	MaxCategoryName        = 64
	MaxCategorySlug        = 64
	MaxCategoryDescription = 300
	MaxThreadTitle         = 200
	MaxPostContent         = 20000

	// ForumPostsPerPage and ForumThreadsPerPage size the paginated lists.
	ForumPostsPerPage   = 50
	ForumThreadsPerPage = 25
)

// Statuses of forum rows, as stored.
const (
	CategoryActive   = "active"
	CategoryArchived = "archived"

	ThreadOpen     = "open"
	ThreadLocked   = "locked"
	ThreadArchived = "archived"

	PostPublished = "published"
	PostHidden    = "hidden"
	PostDeleted   = "deleted"
)

// Subject types forum signals and directives are about; the audit trail
// and the live layer select by them.
const (
	SubjectForumCategory = "forum_category"
	SubjectForumThread   = "forum_thread"
	SubjectForumPost     = "forum_post"
)

// forumSource is the signals' source for everything this file's
// aggregate emits.
const forumSource = "forums"

// ForumCategory is one row of forum_categories.
type ForumCategory struct {
	ID          string    `db:"id"`
	Slug        string    `db:"slug"`
	Name        string    `db:"name"`
	Description string    `db:"description"`
	Status      string    `db:"status"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
	// ThreadCount is filled by list queries only.
	ThreadCount int `db:"thread_count"`
}

// Archived reports whether the category takes no new threads.
func (c ForumCategory) Archived() bool { return c.Status == CategoryArchived }

// ForumThread is a thread with its category's facts joined in.
type ForumThread struct {
	ID              string        `db:"id"`
	CategoryID      string        `db:"category_id"`
	Title           string        `db:"title"`
	Status          string        `db:"status"`
	CreatedByUserID sql.NullInt64 `db:"created_by_user_id"`
	Pinned          bool          `db:"pinned"`
	// FirstPostID is the opening post; SolutionPostID the reply marked as
	// the answer (NULL: not solved); LastPostID the latest published post.
	FirstPostID    sql.NullString `db:"first_post_id"`
	SolutionPostID sql.NullString `db:"solution_post_id"`
	LastPostID     sql.NullString `db:"last_post_id"`
	// PostCount counts published posts, the first one included.
	PostCount  int       `db:"post_count"`
	LastPostAt time.Time `db:"last_post_at"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`

	CategorySlug   string `db:"category_slug"`
	CategoryName   string `db:"category_name"`
	CategoryStatus string `db:"category_status"`
	AuthorName     string `db:"author_name"`
	// LastPosterName is who wrote LastPostID, filled by the thread lists
	// only ("" when unknown).
	LastPosterName string `db:"last_poster_name"`
}

// Solved reports whether a reply is marked as the thread's answer.
func (t ForumThread) Solved() bool { return t.SolutionPostID.Valid }

// StartedBy reports whether userID started the thread.
func (t ForumThread) StartedBy(userID int64) bool {
	return userID != 0 && t.CreatedByUserID.Valid && t.CreatedByUserID.Int64 == userID
}

// Replies is the number of published replies (posts after the first).
func (t ForumThread) Replies() int { return max(t.PostCount-1, 0) }

// State is what the thread page shows and the reply rule checks: a thread
// in an archived category counts as archived, whatever its own status.
func (t ForumThread) State() string {
	if t.CategoryStatus == CategoryArchived {
		return ThreadArchived
	}
	return t.Status
}

// Open reports whether the thread takes replies.
func (t ForumThread) Open() bool { return t.State() == ThreadOpen }

// ForumPost is one post with its author's display name.
type ForumPost struct {
	ID       string `db:"id"`
	ThreadID string `db:"thread_id"`
	Content  string `db:"content"`
	// ContentHTML is Content rendered when the post was written; NULL for
	// older rows (see HTML).
	ContentHTML sql.NullString `db:"content_html"`
	Status      string         `db:"status"`
	AuthorType  string         `db:"author_type"`
	AuthorID    sql.NullString `db:"author_id"`
	AuthorName  string         `db:"author_name"`
	// ExecutionID is the agent run that wrote an agent's post.
	ExecutionID sql.NullString `db:"execution_id"`
	// Revision numbers the current version (1: never edited); EditedAt is
	// when it was written, for a post edited at least once.
	Revision       int           `db:"revision"`
	EditedAt       sql.NullTime  `db:"edited_at"`
	EditedByUserID sql.NullInt64 `db:"edited_by_user_id"`
	// Reactions counts the post's reactions per kind.
	Reactions ReactionCounts `db:"reactions"`
	// FlagHidden: three open flags hid the post, not a moderator.
	FlagHidden bool      `db:"flag_hidden"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`
}

// Edited reports whether the post was changed after it was written.
func (p ForumPost) Edited() bool { return p.Revision > 1 }

// ByUser reports whether userID wrote the post.
func (p ForumPost) ByUser(userID int64) bool {
	return userID != 0 && p.AuthorType == "human" && p.AuthorID.String == strconv.FormatInt(userID, 10)
}

// AuthorUserID is the user who wrote the post, 0 for an agent's or the
// system's.
func (p ForumPost) AuthorUserID() int64 {
	if p.AuthorType != "human" {
		return 0
	}
	id, _ := strconv.ParseInt(p.AuthorID.String, 10, 64)
	return id
}

// ByAgent reports whether an agent wrote the post.
func (p ForumPost) ByAgent() bool { return p.AuthorType == "agent" }

// HTML is the post's Markdown as safe HTML: rendered once at write time,
// or now for rows written before content_html existed.
func (p ForumPost) HTML() template.HTML {
	if p.ContentHTML.Valid {
		return template.HTML(p.ContentHTML.String) //nolint:gosec // RenderMarkdown's output, stored
	}
	return RenderMarkdown(p.Content)
}

// Visible reports whether members see the post.
func (p ForumPost) Visible() bool { return p.Status == PostPublished }

// Pager describes one page of a list, for "newer / older" links.
type Pager struct {
	Page    int // 1-based
	HasPrev bool
	HasNext bool
	Pages   int // 0 when the list does not count its pages
}

// Prev and Next are the neighbouring page numbers.
func (p Pager) Prev() int { return p.Page - 1 }

// Next is the following page number.
func (p Pager) Next() int { return p.Page + 1 }

// normPage turns a user-supplied page number into a valid one.
func normPage(page int) int { return max(page, 1) }

var categorySlugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// DeriveCategorySlug makes a category slug from its name: lowercase, runs
// of other characters become "-", trimmed to the length limit.
func DeriveCategorySlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	s := b.String()
	if len(s) > MaxCategorySlug {
		s = strings.TrimRight(s[:MaxCategorySlug], "-")
	}
	return s
}

// checkPostContent validates a post body (a thread's first post or a
// reply) into v under field.
func checkPostContent(v *ValidationError, field, body string) {
	switch n := utf8.RuneCountInString(body); {
	case strings.TrimSpace(body) == "":
		v.Add(field, "can't be blank")
	case n > MaxPostContent:
		v.Add(field, "is too long: at most 20,000 characters (this is "+strconv.Itoa(n)+")")
	}
}

// forumFact is one forum signal, emitted in the caller's transaction.
type forumFact struct {
	Name        string
	ActorUserID int64 // 0 for the system
	SubjectType string
	SubjectID   string
	Payload     map[string]any
	// DirectiveID ties a moderation's signal to the directive that made
	// it (correlation and causation), "" for direct writes.
	DirectiveID string
}

// emitForum records a forum signal inside tx, so the fact commits with
// the change it describes (SPEC §6).
func (s *Store) emitForum(ctx context.Context, tx *sqlx.Tx, t Tenant, f forumFact) error {
	actor := SystemActor(forumSource)
	if f.ActorUserID != 0 {
		actor = UserActor(f.ActorUserID)
	}
	_, _, err := s.EmitSignal(ctx, tx, t, NewSignal{Name: f.Name, Payload: f.Payload, Actor: actor,
		Subject: Subject{Type: f.SubjectType, ID: f.SubjectID}, Source: forumSource,
		CorrelationID: f.DirectiveID, CausationID: f.DirectiveID})
	return err
}
