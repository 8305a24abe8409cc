package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/migrations"
	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// searchRow is a post's forum_post_search row as q (a Queryer: the pool
// or a transaction) sees it; ok is false when it has none.
func searchRow(t *testing.T, q sqlx.QueryerContext, tn store.Tenant, postID string) (row struct {
	Hidden  bool   `db:"hidden"`
	Opening bool   `db:"opening"`
	Doc     string `db:"doc"`
}, ok bool) {
	t.Helper()
	rows, err := q.QueryxContext(bg, tn.SQL(`SELECT hidden, opening, search_doc::text AS doc FROM {tenant}.forum_post_search WHERE post_id = $1`), postID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.StructScan(&row); err != nil {
			t.Fatal(err)
		}
		ok = true
	}
	return row, ok
}

// moderate applies a post moderation action as the app's executor does:
// in a transaction of its own.
func (f *forumFixture) moderate(t *testing.T, postID, action string) {
	t.Helper()
	err := f.s.Tx(bg, func(tx *sqlx.Tx) error {
		_, err := f.s.SetPostStatusTx(bg, tx, f.t, store.Directive{RequestedByUserID: f.user}, postID, action)
		return err
	})
	if err != nil {
		t.Fatalf("%s %s: %v", action, postID, err)
	}
}

// forum_post_search follows every write to a post, in the write's own
// transaction: a new post, an edit, hide and unhide, delete and restore.
func TestForumPostSearchFollowsPostWrites(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, opening := f.thread(t, "Gecko care")
	reply := f.reply(t, f.user, th.ID, "Crickets, twice a week.")
	if r, ok := searchRow(t, f.s.DB, f.t, opening.ID); !ok || !r.Opening || r.Hidden || !strings.Contains(r.Doc, "'gecko':1A") {
		t.Errorf("opening post's row %+v (%v): want the title in it, weight A", r, ok)
	}
	r, ok := searchRow(t, f.s.DB, f.t, reply.ID)
	if !ok || r.Opening || !strings.Contains(r.Doc, "'cricket':1B") || strings.Contains(r.Doc, "gecko") {
		t.Errorf("reply's row %+v (%v): want its body only", r, ok)
	}
	if !strings.Contains(r.Doc, "'posted "+reply.CreatedAt.UTC().Format("2006-01")+"'") {
		t.Errorf("reply's document %q has not its month", r.Doc)
	}

	// An edit changes the row in the edit's transaction: seen inside it,
	// gone with its rollback.
	tx, err := f.s.DB.BeginTxx(bg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(bg, f.t.SQL(`UPDATE {tenant}.forum_posts SET content = 'Mealworms now.' WHERE id = $1`), reply.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := searchRow(t, tx, f.t, reply.ID); !strings.Contains(r.Doc, "mealworm") || strings.Contains(r.Doc, "cricket") {
		t.Errorf("inside the edit's transaction: %q", r.Doc)
	}
	if r, _ := searchRow(t, f.s.DB, f.t, reply.ID); !strings.Contains(r.Doc, "cricket") {
		t.Errorf("outside the uncommitted edit: %q", r.Doc)
	}
	tx.Rollback()
	if r, _ := searchRow(t, f.s.DB, f.t, reply.ID); !strings.Contains(r.Doc, "cricket") {
		t.Errorf("after the rollback: %q", r.Doc)
	}
	if _, err := f.s.EditPost(bg, f.t, f.user, false, store.PostEdit{PostID: reply.ID, Body: "Crickets and mealworms."}); err != nil {
		t.Fatal(err)
	}
	if r, _ := searchRow(t, f.s.DB, f.t, reply.ID); !strings.Contains(r.Doc, "mealworm") {
		t.Errorf("after EditPost: %q", r.Doc)
	}

	steps := []struct {
		action         string
		exists, hidden bool
		member, mod    int // hits for "mealworms"
	}{
		{store.DirectivePostHide, true, true, 0, 1},
		{store.DirectivePostUnhide, true, false, 1, 1},
		{store.DirectivePostDelete, false, false, 0, 0},
		{store.DirectivePostRestore, true, false, 1, 1},
	}
	for _, st := range steps {
		f.moderate(t, reply.ID, st.action)
		r, ok := searchRow(t, f.s.DB, f.t, reply.ID)
		if ok != st.exists || r.Hidden != st.hidden {
			t.Errorf("after %s: row %v hidden %v, want %v %v", st.action, ok, r.Hidden, st.exists, st.hidden)
		}
		if st.exists && !strings.Contains(r.Doc, "mealworm") {
			t.Errorf("after %s: document %q", st.action, r.Doc)
		}
		if n := len(f.search(t, store.SearchQuery{Text: "mealworms"}).Hits); n != st.member {
			t.Errorf("after %s: a member finds %d, want %d", st.action, n, st.member)
		}
		if n := len(f.search(t, store.SearchQuery{Text: "mealworms", Moderator: true}).Hits); n != st.mod {
			t.Errorf("after %s: a moderator finds %d, want %d", st.action, n, st.mod)
		}
	}
	// A deleted opening post takes its thread's title with it.
	f.moderate(t, opening.ID, store.DirectivePostDelete)
	if res := f.search(t, store.SearchQuery{Text: "gecko", Moderator: true}); len(res.Hits) != 0 {
		t.Errorf("found by the title of its deleted opening post: %+v", res.Hits)
	}
}

// The newest matches are looked for month by month: old posts are found
// when the new ones are too few, however old; a capped search ranks the
// newest; and the month lexeme is no word anyone can search for.
func TestSearchReadsPeriodsNewestFirst(t *testing.T) {
	t.Parallel()
	f := newForum(t)
	th, _ := f.thread(t, "Archive")
	at := func(ago, body string) {
		t.Helper()
		if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`INSERT INTO {tenant}.forum_posts (thread_id, content, author_type, author_id, created_at)
			VALUES ($1, $2, 'human', $3, now() - $4::interval)`), th.ID, body, fmt.Sprint(f.user), ago); err != nil {
			t.Fatal(err)
		}
	}
	// One match in each period's span and one older than them all.
	for _, ago := range []string{"1 day", "4 months", "10 months", "20 months", "5 years"} {
		at(ago, "the marmot of "+ago)
	}
	res := f.search(t, store.SearchQuery{Text: "marmot"})
	if len(res.Hits) != 1 || res.Threads != 1 || res.Capped {
		t.Fatalf("marmot: %+v", res)
	}
	other, _ := f.thread(t, "Elsewhere")
	var got []string
	for _, ago := range []string{"5 years", "20 months", "10 months", "4 months"} {
		if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`UPDATE {tenant}.forum_posts SET thread_id = $2 WHERE content = $1`), "the marmot of "+ago, other.ID); err != nil {
			t.Fatal(err)
		}
		for _, h := range f.search(t, store.SearchQuery{Text: "marmot"}).Hits {
			got = append(got, h.Snippet)
		}
	}
	for _, ago := range []string{"5 years", "20 months", "10 months", "4 months"} {
		if !strings.Contains(strings.Join(got, "|"), ago) {
			t.Errorf("the post of %s ago never found: %q", ago, got)
		}
	}

	// Capped: more than SearchRanked matches this month and one from two
	// years ago; the old one is not ranked, the newest are.
	if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`INSERT INTO {tenant}.forum_posts (thread_id, content, author_type, author_id, created_at)
		SELECT $1, 'a fresh quail ' || i, 'human', $2, now() - i * interval '1 second' FROM generate_series(1, $3) AS i`),
		th.ID, fmt.Sprint(f.user), store.SearchRanked+1); err != nil { // +1: the one that says "capped" is ranked too
		t.Fatal(err)
	}
	at("2 years", "an old quail")
	lone, _ := f.thread(t, "Lone")
	if _, err := f.s.DB.ExecContext(bg, f.t.SQL(`UPDATE {tenant}.forum_posts SET thread_id = $1 WHERE content = 'an old quail'`), lone.ID); err != nil {
		t.Fatal(err)
	}
	res = f.search(t, store.SearchQuery{Text: "quail"})
	if !res.Capped || res.Threads != 1 || len(res.Hits) != 1 || res.Hits[0].ThreadID != th.ID {
		t.Errorf("capped quail: %+v, want the newest posts' thread only", res)
	}

	month := "posted " + th.CreatedAt.UTC().Format("2006-01")
	for _, q := range []string{month, `"` + month + `"`, th.CreatedAt.UTC().Format("2006-01")} {
		if res := f.search(t, store.SearchQuery{Text: q}); len(res.Hits) != 0 {
			t.Errorf("%q finds %+v", q, res.Hits)
		}
	}
}

// An organization whose posts were written before forum_post_search gets
// their rows when it migrates: opening posts with their titles, hidden
// ones marked, deleted ones left out, each with its month.
func TestForumPostSearchMigrationBackfills(t *testing.T) {
	t.Parallel()
	s := storetest.Store(t)
	ctx := context.Background()
	_, tenant, err := migrations.Load()
	if err != nil {
		t.Fatal(err)
	}
	before := 0
	for _, m := range tenant {
		if m.Name == "forum_post_search" {
			before = m.Version - 1
		}
	}
	if before == 0 {
		t.Fatal("no forum_post_search migration")
	}
	tn := store.Tenant{Slug: storetest.Name("backfill")}
	migrate := func(set migrations.Set) {
		t.Helper()
		if err := s.Tx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pq.QuoteIdentifier(tn.Schema())); err != nil {
				return err
			}
			_, err := migrations.ApplyTenant(ctx, tx, set, tn.Schema())
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	migrate(tenant[:before])
	t.Cleanup(func() {
		s.DB.ExecContext(context.Background(), `DROP SCHEMA IF EXISTS `+pq.QuoteIdentifier(tn.Schema())+` CASCADE`)
	})
	var ids []string
	if err := s.DB.SelectContext(ctx, &ids, tn.SQL(`WITH c AS (INSERT INTO {tenant}.forum_categories (slug, name) VALUES ('general', 'General') RETURNING id),
		th AS (INSERT INTO {tenant}.forum_threads (category_id, title) SELECT id, 'Beaver dams' FROM c RETURNING id)
		INSERT INTO {tenant}.forum_posts (thread_id, content, status, created_at)
		SELECT th.id, x.content, x.status, now() - x.ago * interval '1 day' FROM th,
		       (VALUES ('They build at night.', 'published', 400), ('Hidden remark.', 'hidden', 2), ('Deleted remark.', 'deleted', 1)) AS x(content, status, ago)
		RETURNING id`)); err != nil {
		t.Fatal(err)
	}
	migrate(tenant)
	first, ok := searchRow(t, s.DB, tn, ids[0])
	if !ok || !first.Opening || first.Hidden || !strings.Contains(first.Doc, "'beaver':1A") || !strings.Contains(first.Doc, "'night':6B") ||
		!strings.Contains(first.Doc, "'posted ") {
		t.Errorf("opening post %+v (%v)", first, ok)
	}
	if r, ok := searchRow(t, s.DB, tn, ids[1]); !ok || !r.Hidden || r.Opening {
		t.Errorf("hidden post %+v (%v)", r, ok)
	}
	if _, ok := searchRow(t, s.DB, tn, ids[2]); ok {
		t.Error("the deleted post has a row")
	}
}
