package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Review is one user's review of a package.
type Review struct {
	ID         int64     `db:"id"`
	PackageID  int64     `db:"package_id"`
	UserID     int64     `db:"user_id"`
	AuthorName string    `db:"author_name"`
	Rating     int       `db:"rating"`
	Title      string    `db:"title"`
	Content    string    `db:"content"`
	CreatedAt  time.Time `db:"created_at"`
}

// ReviewInput is the review form.
type ReviewInput struct {
	Rating  string // as submitted: "1" … "5"
	Title   string
	Content string
}

// Validate checks the form and returns the rating as a number.
func (in *ReviewInput) Validate() (int, error) {
	in.Title, in.Content = strings.TrimSpace(in.Title), strings.TrimSpace(in.Content)
	v := &ValidationError{}
	rating, err := strconv.Atoi(strings.TrimSpace(in.Rating))
	if err != nil || rating < 1 || rating > 5 {
		v.Add("rating", "choose a rating from 1 to 5")
	}
	if utf8.RuneCountInString(in.Title) > 120 {
		v.Add("title", "must be at most 120 characters")
	}
	if utf8.RuneCountInString(in.Content) > 5000 {
		v.Add("content", "must be at most 5,000 characters")
	}
	return rating, v.OrNil()
}

// Reviews returns a package's reviews, newest first.
func (s *Store) Reviews(ctx context.Context, packageID int64) ([]Review, error) {
	var rs []Review
	err := s.DB.SelectContext(ctx, &rs, `SELECT r.id, r.package_id, r.user_id, u.name AS author_name, r.rating, r.title, r.content, r.created_at
		FROM public.package_reviews r JOIN public.users u ON u.id = r.user_id
		WHERE r.package_id = $1 ORDER BY r.created_at DESC, r.id DESC`, packageID)
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	return rs, nil
}

// ReviewBy returns userID's review of a package, or ErrNotFound.
func (s *Store) ReviewBy(ctx context.Context, packageID, userID int64) (Review, error) {
	var r Review
	err := s.DB.GetContext(ctx, &r, `SELECT r.id, r.package_id, r.user_id, u.name AS author_name, r.rating, r.title, r.content, r.created_at
		FROM public.package_reviews r JOIN public.users u ON u.id = r.user_id
		WHERE r.package_id = $1 AND r.user_id = $2`, packageID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	} else if err != nil {
		return r, fmt.Errorf("review: %w", err)
	}
	return r, nil
}

// SaveReview records userID's review of a published package. A user has
// one review per package: submitting again replaces it (the form says
// "Update your review"), which keeps the rule without a dead-end error.
// It reports whether the review was new. The package's rating_avg and
// rating_count are recomputed from the reviews in the same transaction,
// with the package row locked so concurrent reviews cannot miscount.
func (s *Store) SaveReview(ctx context.Context, slug string, userID int64, in ReviewInput) (created bool, err error) {
	rating, err := in.Validate()
	if err != nil {
		return false, err
	}
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		var pkgID int64
		err := tx.GetContext(ctx, &pkgID, `SELECT id FROM public.packages WHERE slug = $1 AND is_published FOR UPDATE`, slug)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("lock package %q: %w", slug, err)
		}
		// xmax = 0 only for a freshly inserted row: that tells insert from update.
		if err := tx.GetContext(ctx, &created, `INSERT INTO public.package_reviews (package_id, user_id, rating, title, content)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (package_id, user_id) DO UPDATE SET rating = EXCLUDED.rating, title = EXCLUDED.title, content = EXCLUDED.content
			RETURNING (xmax = 0)`, pkgID, userID, rating, in.Title, in.Content); err != nil {
			return fmt.Errorf("save review: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE public.packages p SET
				rating_avg = coalesce((SELECT round(avg(rating), 2) FROM public.package_reviews WHERE package_id = p.id), 0),
				rating_count = (SELECT count(*) FROM public.package_reviews WHERE package_id = p.id),
				updated_at = now()
			WHERE id = $1`, pkgID); err != nil {
			return fmt.Errorf("update package rating: %w", err)
		}
		return nil
	})
	return created, err
}
