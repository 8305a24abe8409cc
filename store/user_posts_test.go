package store_test

import (
	"context"
	"fmt"
	"testing"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

func TestSeedGivesTheDemoAdminTheirHandle(t *testing.T) {
	s := storetest.Store(t)
	ctx := context.Background()
	if err := s.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByHandle(ctx, "admin")
	if err != nil || u.Email != "admin@demo.com" {
		t.Fatalf("@admin is %+v %v", u, err)
	}
	// A demo admin from before handles (the migration named it after the
	// name) is renamed by the next seed.
	if _, err := s.DB.ExecContext(ctx, `UPDATE users SET handle = 'admin_user' WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if again, err := s.UserByHandle(ctx, "admin"); err != nil || again.ID != u.ID {
		t.Errorf("after a second seed @admin is %+v %v", again, err)
	}
}

// authorFixture is an organization where a member wrote more posts than
// fit a profile page (or a thread page), interleaved with the owner's; the
// member's last post is hidden and their first deleted.
type authorFixture struct {
	s               *store.Store
	m               memberOrg
	author          store.User
	th              store.ForumThread
	hidden, deleted string
	authored        int // every status
}

func newAuthorFixture(t *testing.T) authorFixture {
	t.Helper()
	ctx := context.Background()
	s := storetest.Store(t)
	m := newMemberOrg(t, s, 1)
	author := m.others[0]
	m.add(t, author, store.RoleMember)
	cat, err := s.CreateForumCategory(ctx, m.t, m.owner.ID, store.NewForumCategory{Name: "General"})
	if err != nil {
		t.Fatal(err)
	}
	th, first, err := s.CreateForumThread(ctx, m.t, author.ID, store.NewForumThread{CategoryID: cat.ID, Title: "Author's thread", Body: "first post"})
	if err != nil {
		t.Fatal(err)
	}
	// The owner's posts interleave and must not show; the author's fill
	// more than one page of the thread and of the profile.
	var last store.ForumPost
	for i := range store.UserPostsPerPage + store.ForumPostsPerPage {
		who := author.ID
		if i%3 == 0 {
			who = m.owner.ID
		}
		_, p, err := s.CreateForumReply(ctx, m.t, who, th.ID, fmt.Sprintf("reply %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if who == author.ID {
			last = p
		}
	}
	hidden, deleted := last.ID, first.ID
	s.DB.ExecContext(ctx, m.t.SQL(`UPDATE {tenant}.forum_posts SET status = 'hidden' WHERE id = $1`), hidden)
	s.DB.ExecContext(ctx, m.t.SQL(`UPDATE {tenant}.forum_posts SET status = 'deleted' WHERE id = $1`), deleted)
	var authored int
	s.DB.GetContext(ctx, &authored, m.t.SQL(`SELECT count(*) FROM {tenant}.forum_posts WHERE author_id = $1`), fmt.Sprint(author.ID))

	return authorFixture{s: s, m: m, author: author, th: th, hidden: hidden, deleted: deleted, authored: authored}
}

func TestUserPosts(t *testing.T) {
	t.Parallel()
	f := newAuthorFixture(t)
	s, m, author, th, hidden, deleted, authored := f.s, f.m, f.author, f.th, f.hidden, f.deleted, f.authored
	ctx := context.Background()
	// A member's view: published only, newest first, a page at a time.
	page, err := s.UserPosts(ctx, m.t, author.ID, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != authored-2 || len(page.Posts) != store.UserPostsPerPage || page.Next == "" {
		t.Fatalf("first page: total %d (authored %d), %d posts, next %q", page.Total, authored, len(page.Posts), page.Next)
	}
	seen := map[string]bool{}
	for i, p := range page.Posts {
		if p.ID == hidden || p.ID == deleted || p.ThreadTitle != th.Title {
			t.Errorf("member sees %+v", p)
		}
		if i > 0 && p.CreatedAt.After(page.Posts[i-1].CreatedAt) {
			t.Error("not newest first")
		}
		seen[p.ID] = true
	}
	// The page number is the thread page the post is on.
	for _, p := range page.Posts[:3] {
		want, err := s.PostPage(ctx, m.t, store.ForumPost{ID: p.ID, ThreadID: p.ThreadID, CreatedAt: p.CreatedAt}, false)
		if err != nil || p.Page != want {
			t.Errorf("post %s on page %d, thread says %d (%v)", p.ID, p.Page, want, err)
		}
	}
	for next := page.Next; next != ""; {
		rest, err := s.UserPosts(ctx, m.t, author.ID, false, next)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rest.Posts {
			if seen[p.ID] {
				t.Errorf("post %s on two pages", p.ID)
			}
			seen[p.ID] = true
		}
		next = rest.Next
	}
	if len(seen) != page.Total {
		t.Errorf("the pages hold %d posts, total %d", len(seen), page.Total)
	}

	// A moderator's view adds the hidden post, never the deleted one.
	mod, err := s.UserPosts(ctx, m.t, author.ID, true, "")
	if err != nil || mod.Total != authored-1 {
		t.Fatalf("moderator total %d, want %d (%v)", mod.Total, authored-1, err)
	}
	if mod.Posts[0].ID != hidden || mod.Posts[0].Status != store.PostHidden {
		t.Errorf("moderator's newest post %+v, want the hidden one", mod.Posts[0])
	}
	if _, err := s.UserPosts(ctx, m.t, author.ID, false, "garbage"); err == nil {
		t.Error("a malformed cursor was accepted")
	}
	// Another organization's view of the same person: nothing.
	other := newMemberOrg(t, s, 0)
	if p, err := s.UserPosts(ctx, other.t, author.ID, true, ""); err != nil || p.Total != 0 || len(p.Posts) != 0 {
		t.Errorf("another tenant lists %+v %v", p, err)
	}
}
