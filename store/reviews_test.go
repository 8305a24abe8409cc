package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestReviewsOnePerUserKeepRatingRight(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	p := testPackage(t, st, pkgSpec{agents: 1})
	u1, _ := register(t, st, storetest.Name("rv"))
	u2, _ := register(t, st, storetest.Name("rv"))

	created, err := st.SaveReview(ctx, p.Slug, u1.ID, store.ReviewInput{Rating: "5", Title: "Great", Content: "Works."})
	if err != nil || !created {
		t.Fatalf("first review: %v %v", created, err)
	}
	if _, err := st.SaveReview(ctx, p.Slug, u2.ID, store.ReviewInput{Rating: "2"}); err != nil {
		t.Fatal(err)
	}
	// The same user again replaces their review.
	created, err = st.SaveReview(ctx, p.Slug, u1.ID, store.ReviewInput{Rating: "3", Title: "Changed my mind"})
	if err != nil || created {
		t.Fatalf("second review by the same user: created %v err %v", created, err)
	}
	got, _ := st.PackageBySlug(ctx, p.Slug)
	if got.RatingCount != 2 || got.RatingAvg != 2.5 {
		t.Errorf("rating %v from %d, want 2.5 from 2", got.RatingAvg, got.RatingCount)
	}
	rs, _ := st.Reviews(ctx, p.ID)
	if len(rs) != 2 {
		t.Errorf("%d reviews", len(rs))
	}
	mine, err := st.ReviewBy(ctx, p.ID, u1.ID)
	if err != nil || mine.Rating != 3 || mine.Title != "Changed my mind" {
		t.Errorf("review by u1: %+v %v", mine, err)
	}

	for _, bad := range []string{"0", "6", "", "x"} {
		_, err := st.SaveReview(ctx, p.Slug, u1.ID, store.ReviewInput{Rating: bad})
		var v *store.ValidationError
		if !errors.As(err, &v) || v.Fields["rating"] == "" {
			t.Errorf("rating %q: %v", bad, err)
		}
	}
	if _, err := st.SaveReview(ctx, "no-such-package", u1.ID, store.ReviewInput{Rating: "4"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown package: %v", err)
	}
}

// Concurrent reviews by different users all count.
func TestConcurrentReviewsAllCount(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	p := testPackage(t, st, pkgSpec{agents: 1})
	const n = 6
	users := make([]store.User, n)
	for i := range users {
		users[i], _ = register(t, st, storetest.Name("rc"))
	}
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.SaveReview(ctx, p.Slug, users[i].ID, store.ReviewInput{Rating: "4"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := st.PackageBySlug(ctx, p.Slug)
	if got.RatingCount != n || got.RatingAvg != 4 {
		t.Errorf("rating %v from %d, want 4 from %d", got.RatingAvg, got.RatingCount, n)
	}
}

func TestListPackagesFilters(t *testing.T) {
	t.Parallel()
	st := storetest.Store(t)
	ctx := context.Background()
	pro := testPackage(t, st, pkgSpec{minTier: "pro", agents: 1})
	free := testPackage(t, st, pkgSpec{agents: 1})
	has := func(ps []store.Package, slug string) bool {
		for _, p := range ps {
			if p.Slug == slug {
				return true
			}
		}
		return false
	}
	ps, _ := st.ListPackages(ctx, store.PackageFilter{Q: pro.Slug})
	if len(ps) != 1 || ps[0].Slug != pro.Slug {
		t.Errorf("search by name: %d results", len(ps))
	}
	ps, _ = st.ListPackages(ctx, store.PackageFilter{Tier: "pro"})
	if !has(ps, pro.Slug) || has(ps, free.Slug) {
		t.Errorf("tier filter wrong")
	}
	ps, _ = st.ListPackages(ctx, store.PackageFilter{Category: "sales", Q: free.Slug})
	if len(ps) != 0 {
		t.Errorf("category filter: %d results", len(ps))
	}
	ps, _ = st.ListPackages(ctx, store.PackageFilter{Q: "%"})
	if len(ps) != 0 {
		t.Errorf("%% is matched literally, got %d results", len(ps))
	}
	st.DB.Exec(`UPDATE packages SET is_published = false WHERE id = $1`, free.ID)
	ps, _ = st.ListPackages(ctx, store.PackageFilter{Q: free.Slug})
	if len(ps) != 0 {
		t.Errorf("unpublished package listed")
	}
	if _, err := st.PublishedPackage(ctx, free.Slug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unpublished package found: %v", err)
	}
}
