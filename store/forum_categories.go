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

// NewForumCategory is the category form (fields name, slug, description).
type NewForumCategory struct {
	Name        string
	Slug        string // optional: derived from Name when blank
	Description string
}

// Normalize trims the input and derives a blank slug from the name.
func (n *NewForumCategory) Normalize() {
	n.Name = strings.TrimSpace(n.Name)
	n.Slug = strings.TrimSpace(n.Slug)
	n.Description = strings.TrimSpace(n.Description)
	if n.Slug == "" {
		n.Slug = DeriveCategorySlug(n.Name)
	}
}

// Validate checks the limits of SPEC §5; uniqueness is the database's.
func (n NewForumCategory) Validate() error {
	v := &ValidationError{}
	switch {
	case n.Name == "":
		v.Add("name", "can't be blank")
	case utf8.RuneCountInString(n.Name) > MaxCategoryName:
		v.Add("name", "is too long: at most 64 characters")
	}
	switch {
	case n.Slug == "":
		v.Add("slug", "can't be blank (and could not be made from the name)")
	case len(n.Slug) > MaxCategorySlug:
		v.Add("slug", "is too long: at most 64 characters")
	case !categorySlugRE.MatchString(n.Slug):
		v.Add("slug", "use lowercase letters and digits in words joined by single dashes, like \"product-news\"")
	}
	if utf8.RuneCountInString(n.Description) > MaxCategoryDescription {
		v.Add("description", "is too long: at most 300 characters")
	}
	return v.OrNil()
}

const categoryColumns = `c.id, c.slug, c.name, c.description, c.status, c.created_at, c.updated_at`

// CreateForumCategory adds a category and its forum.category.created
// signal in one transaction. A taken slug is a validation error.
func (s *Store) CreateForumCategory(ctx context.Context, t Tenant, actorUserID int64, n NewForumCategory) (ForumCategory, error) {
	n.Normalize()
	if err := n.Validate(); err != nil {
		return ForumCategory{}, err
	}
	var c ForumCategory
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &c, t.SQL(`INSERT INTO {tenant}.forum_categories AS c (slug, name, description)
			VALUES ($1, $2, $3) RETURNING `+categoryColumns), n.Slug, n.Name, n.Description)
		if _, ok := uniqueViolation(err); ok {
			return Invalid("slug", fmt.Sprintf("%q is already used by another category", n.Slug))
		} else if err != nil {
			return fmt.Errorf("insert category: %w", err)
		}
		return s.emitForum(ctx, tx, t, forumFact{Name: "forum.category.created", ActorUserID: actorUserID,
			SubjectType: SubjectForumCategory, SubjectID: c.ID,
			Payload: map[string]any{"category_id": c.ID, "slug": c.Slug, "name": c.Name}})
	})
	return c, err
}

// ForumCategories lists the tenant's categories, active first, each with
// its thread count.
func (s *Store) ForumCategories(ctx context.Context, t Tenant) ([]ForumCategory, error) {
	var cs []ForumCategory
	err := s.DB.SelectContext(ctx, &cs, t.SQL(`SELECT `+categoryColumns+`,
			(SELECT count(*) FROM {tenant}.forum_threads th WHERE th.category_id = c.id) AS thread_count
		FROM {tenant}.forum_categories c
		ORDER BY c.status = 'archived', c.name, c.id`))
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return cs, nil
}

// ForumCategoryBySlug finds a category of the tenant; ErrNotFound otherwise.
func (s *Store) ForumCategoryBySlug(ctx context.Context, t Tenant, slug string) (ForumCategory, error) {
	var c ForumCategory
	err := s.DB.GetContext(ctx, &c, t.SQL(`SELECT `+categoryColumns+` FROM {tenant}.forum_categories c WHERE c.slug = $1`), slug)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	} else if err != nil {
		return c, fmt.Errorf("category %q: %w", slug, err)
	}
	return c, nil
}

// ForumCategoryByID finds a category of the tenant by id; a malformed or
// foreign id is ErrNotFound.
func (s *Store) ForumCategoryByID(ctx context.Context, t Tenant, id string) (ForumCategory, error) {
	var c ForumCategory
	if !IsUUID(id) {
		return c, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &c, t.SQL(`SELECT `+categoryColumns+` FROM {tenant}.forum_categories c WHERE c.id = $1`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	} else if err != nil {
		return c, fmt.Errorf("category %s: %w", id, err)
	}
	return c, nil
}

// ArchiveForumCategory stops a category taking new threads (and its
// threads taking replies). Archiving an archived category changes nothing
// and emits nothing; changed says which happened.
func (s *Store) ArchiveForumCategory(ctx context.Context, t Tenant, actorUserID int64, slug string) (ForumCategory, bool, error) {
	return s.setCategoryStatus(ctx, t, actorUserID, slug, CategoryActive, CategoryArchived, "forum.category.archived")
}

// RestoreForumCategory reopens an archived category.
func (s *Store) RestoreForumCategory(ctx context.Context, t Tenant, actorUserID int64, slug string) (ForumCategory, bool, error) {
	return s.setCategoryStatus(ctx, t, actorUserID, slug, CategoryArchived, CategoryActive, "forum.category.restored")
}

// setCategoryStatus is a direct write (not a directive: SPEC §8 lists
// archive/restore as plain owner/admin routes) with its signal in the
// same transaction.
func (s *Store) setCategoryStatus(ctx context.Context, t Tenant, actorUserID int64, slug, from, to, signal string) (ForumCategory, bool, error) {
	var c ForumCategory
	changed := false
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &c, t.SQL(`SELECT `+categoryColumns+` FROM {tenant}.forum_categories c WHERE c.slug = $1 FOR UPDATE`), slug)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("lock category %q: %w", slug, err)
		}
		if c.Status != from {
			return nil
		}
		if err := tx.GetContext(ctx, &c, t.SQL(`UPDATE {tenant}.forum_categories c SET status = $2, updated_at = now()
			WHERE c.id = $1 RETURNING `+categoryColumns), c.ID, to); err != nil {
			return fmt.Errorf("set category %q %s: %w", slug, to, err)
		}
		changed = true
		return s.emitForum(ctx, tx, t, forumFact{Name: signal, ActorUserID: actorUserID,
			SubjectType: SubjectForumCategory, SubjectID: c.ID,
			Payload: map[string]any{"category_id": c.ID, "slug": c.Slug, "status": to}})
	})
	return c, changed, err
}
