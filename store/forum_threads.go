package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// NewForumThread is the thread form (fields category_id, title, body).
type NewForumThread struct {
	CategoryID string
	Title      string
	Body       string
	// IdempotencyKey is the form's hidden key: the same form sent again
	// returns the thread it made. Empty: a new thread every time.
	IdempotencyKey string
}

// Validate checks the form's own limits; the category's existence and
// status are checked against the database by CreateForumThread.
func (n NewForumThread) Validate() error {
	v := &ValidationError{}
	if n.CategoryID == "" {
		v.Add("category_id", "choose a category")
	}
	switch title := strings.TrimSpace(n.Title); {
	case title == "":
		v.Add("title", "can't be blank")
	case utf8.RuneCountInString(title) > MaxThreadTitle:
		v.Add("title", "is too long: at most 200 characters")
	}
	checkPostContent(v, "body", n.Body)
	if len(n.IdempotencyKey) > 200 {
		v.Add("idempotency_key", "must be at most 200 characters")
	}
	return v.OrNil()
}

// threadSelect reads threads with their category and author joined in;
// callers append WHERE / ORDER BY.
const threadSelect = `SELECT ` + threadColumns + threadFrom

const (
	threadColumns = `th.id, th.category_id, th.title, th.status, th.created_by_user_id, th.pinned,
		th.first_post_id::text AS first_post_id, th.solution_post_id::text AS solution_post_id, th.last_post_id::text AS last_post_id,
		th.post_count, th.last_post_at, th.created_at, th.updated_at,
		c.slug AS category_slug, c.name AS category_name, c.status AS category_status,
		coalesce(u.name, '') AS author_name`
	threadFrom = ` FROM {tenant}.forum_threads th
	JOIN {tenant}.forum_categories c ON c.id = th.category_id
	LEFT JOIN public.users u ON u.id = th.created_by_user_id `
)

// threadFromUpdated is threadSelect over the rows of a CTE named u (an
// UPDATE of forum_threads RETURNING *): the thread as a write left it.
var threadFromUpdated = `SELECT ` + threadColumns + strings.Replace(threadFrom, "{tenant}.forum_threads th", "u th", 1)

// threadListSelect is threadSelect with the last poster's name, for the
// thread lists: one post and its author looked up per listed thread.
const threadListSelect = `SELECT ` + threadColumns + `,
		coalesce(lu.name, la.name, CASE lp.author_type WHEN 'system' THEN 'FleetPrompt' WHEN 'agent' THEN 'Agent' END, '') AS last_poster_name` +
	threadFrom + `LEFT JOIN {tenant}.forum_posts lp ON lp.id = th.last_post_id
	LEFT JOIN LATERAL (SELECT name FROM public.users
		WHERE id = CASE WHEN lp.author_type = 'human' AND lp.author_id ~ '^[0-9]{1,18}$' THEN lp.author_id::bigint END) lu ON true
	LEFT JOIN LATERAL (SELECT name FROM {tenant}.agents WHERE lp.author_type = 'agent' AND id::text = lp.author_id) la ON true `

// CreateForumThread creates a thread and its first post together, with
// their forum.thread.created and forum.post.created signals, or nothing
// at all. An unknown (or foreign) category and an archived one are
// validation errors on category_id, since the user picked it in the form.
func (s *Store) CreateForumThread(ctx context.Context, t Tenant, actorUserID int64, n NewForumThread) (ForumThread, ForumPost, error) {
	n.Title = strings.TrimSpace(n.Title)
	if err := n.Validate(); err != nil {
		return ForumThread{}, ForumPost{}, err
	}
	var (
		th   ForumThread
		post ForumPost
	)
	err := s.Tx(ctx, func(tx *sqlx.Tx) (err error) {
		th, post, err = s.CreateForumThreadTx(ctx, tx, t, actorUserID, n)
		return err
	})
	if c, ok := uniqueViolation(err); ok && c == "forum_threads_idempotency_key" {
		return s.threadByKey(ctx, t, actorUserID, n.IdempotencyKey)
	}
	return th, post, err
}

// threadByKey is the thread an earlier send of the same form made, with
// its first post. A key another person used is not that form: a
// conflict, never their thread.
func (s *Store) threadByKey(ctx context.Context, t Tenant, actorUserID int64, key string) (ForumThread, ForumPost, error) {
	var th ForumThread
	if err := s.DB.GetContext(ctx, &th, t.SQL(threadSelect+`WHERE th.idempotency_key = $1`), key); err != nil {
		return th, ForumPost{}, fmt.Errorf("thread of idempotency key: %w", err)
	}
	if !th.StartedBy(actorUserID) {
		return ForumThread{}, ForumPost{}, fmt.Errorf("idempotency key already used for another thread: %w", ErrConflict)
	}
	post, err := s.ForumPost(ctx, t, th.FirstPostID.String)
	return th, post, err
}

// ThreadByKey is the thread the form with key made, when an earlier send
// of it did (ErrNotFound otherwise): a resent form that is refused for
// another reason (the posting limit) still answers with its thread.
func (s *Store) ThreadByKey(ctx context.Context, t Tenant, actorUserID int64, key string) (ForumThread, error) {
	if key == "" {
		return ForumThread{}, ErrNotFound
	}
	th, _, err := s.threadByKey(ctx, t, actorUserID, key)
	if errors.Is(err, sql.ErrNoRows) {
		return th, ErrNotFound
	}
	return th, err
}

// CreateForumThreadTx is CreateForumThread inside tx (n already
// validated): the chat's forum.thread.create directive runs it in the
// directive's transaction.
func (s *Store) CreateForumThreadTx(ctx context.Context, tx *sqlx.Tx, t Tenant, actorUserID int64, n NewForumThread) (th ForumThread, post ForumPost, err error) {
	err = func() error {
		var cat ForumCategory
		if !IsUUID(n.CategoryID) {
			return Invalid("category_id", "choose one of the categories")
		}
		// FOR SHARE: an archive racing this insert waits for it, so no
		// thread lands in a category after it was archived.
		err := tx.GetContext(ctx, &cat, t.SQL(`SELECT `+categoryColumns+` FROM {tenant}.forum_categories c WHERE c.id = $1 FOR SHARE`), n.CategoryID)
		if errors.Is(err, sql.ErrNoRows) {
			return Invalid("category_id", "choose one of the categories")
		} else if err != nil {
			return fmt.Errorf("read category: %w", err)
		}
		if cat.Archived() {
			return Invalid("category_id", fmt.Sprintf("%s is archived: it takes no new threads", cat.Name))
		}
		var id string
		err = tx.GetContext(ctx, &id, t.SQL(`INSERT INTO {tenant}.forum_threads (category_id, title, created_by_user_id, post_count, idempotency_key)
			VALUES ($1, $2, $3, 1, $4) RETURNING id`), cat.ID, n.Title, nullUser(actorUserID), nullIfEmpty(n.IdempotencyKey))
		if _, ok := uniqueViolation(err); ok {
			return err // a resent form: the caller answers with its thread
		} else if err != nil {
			return fmt.Errorf("insert thread: %w", err)
		}
		if post, err = insertPost(ctx, tx, t, id, actorUserID, n.Body); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &th, t.SQL(`WITH u AS (UPDATE {tenant}.forum_threads SET first_post_id = $2, last_post_id = $2
			WHERE id = $1 RETURNING *) `+threadFromUpdated+`WHERE th.id = $1`), id, post.ID); err != nil {
			return fmt.Errorf("read new thread: %w", err)
		}
		if err := s.emitForum(ctx, tx, t, forumFact{Name: "forum.thread.created", ActorUserID: actorUserID,
			SubjectType: SubjectForumThread, SubjectID: th.ID,
			// The first post's body too: a workflow reacting to a new thread
			// reads it from the trigger (SPEC §13).
			Payload: map[string]any{"thread_id": th.ID, "title": th.Title, "category_id": cat.ID, "category_slug": cat.Slug,
				"post_id": post.ID, "body": post.Content}}); err != nil {
			return err
		}
		return s.emitPostCreated(ctx, tx, t, actorUserID, th, post)
	}()
	return th, post, err
}

func nullUser(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// ForumThread finds a thread of the tenant; a malformed or foreign id is
// ErrNotFound.
func (s *Store) ForumThread(ctx context.Context, t Tenant, id string) (ForumThread, error) {
	var th ForumThread
	if !IsUUID(id) {
		return th, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &th, t.SQL(threadSelect+`WHERE th.id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return th, ErrNotFound
	} else if err != nil {
		return th, fmt.Errorf("thread %s: %w", id, err)
	}
	return th, nil
}

// CategoryThreads lists one page of a category's threads, pinned first,
// then by last activity.
func (s *Store) CategoryThreads(ctx context.Context, t Tenant, categoryID string, page int) ([]ForumThread, Pager, error) {
	return s.threadPage(ctx, t, `WHERE th.category_id = $1 ORDER BY th.pinned DESC, th.last_post_at DESC, th.id`, page, categoryID)
}

// LatestThreads lists one page of the tenant's threads, pinned first,
// then by last activity.
func (s *Store) LatestThreads(ctx context.Context, t Tenant, page int) ([]ForumThread, Pager, error) {
	return s.threadPage(ctx, t, `ORDER BY th.pinned DESC, th.last_post_at DESC, th.id`, page)
}

// threadPage reads one more row than a page holds, to know whether a next
// page exists without counting the whole table.
func (s *Store) threadPage(ctx context.Context, t Tenant, where string, page int, args ...any) ([]ForumThread, Pager, error) {
	page = normPage(page)
	n := len(args)
	q := threadListSelect + where + fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n+1, n+2)
	var ths []ForumThread
	if err := s.DB.SelectContext(ctx, &ths, t.SQL(q), append(args, ForumThreadsPerPage+1, (page-1)*ForumThreadsPerPage)...); err != nil {
		return nil, Pager{}, fmt.Errorf("list threads: %w", err)
	}
	p := Pager{Page: page, HasPrev: page > 1, HasNext: len(ths) > ForumThreadsPerPage}
	if p.HasNext {
		ths = ths[:ForumThreadsPerPage]
	}
	return ths, p, nil
}
