package store

import (
	"context"
	"fmt"

	"github.com/lib/pq"
)

// The names that readable activity (views.Describe) puts into sentences:
// who acted, which thread, category, package or agent a signal is about.
// A feed or an inbox page looks them all up at once, a query per kind of
// thing, rather than per signal.

// NameQuery lists what to look up; empty lists cost nothing.
type NameQuery struct {
	Users                                        []int64
	Agents, Threads, Posts, Categories, Packages []string
}

// ThreadName is a thread as a sentence names it.
type ThreadName struct {
	Title        string `db:"title"`
	CategorySlug string `db:"category_slug"`
	CategoryName string `db:"category_name"`
	FirstPostID  string `db:"first_post_id"`
}

// UserName is a person as a sentence names them.
type UserName struct {
	Name   string `db:"name"`
	Handle string `db:"handle"`
}

// ActivityNames holds what a NameQuery found; what was not found (gone,
// or another tenant's) is absent.
type ActivityNames struct {
	Users      map[int64]UserName
	Agents     map[string]string     // id → name
	Threads    map[string]ThreadName // id → thread
	Posts      map[string]string     // post id → its thread's id
	Categories map[string]string     // slug → name
	Packages   map[string]string     // slug → name
}

// LookupNames finds the names q asks for in t. Posts are looked up
// first, so their threads are named too.
func (s *Store) LookupNames(ctx context.Context, t Tenant, q NameQuery) (ActivityNames, error) {
	n := ActivityNames{Users: map[int64]UserName{}, Agents: map[string]string{}, Threads: map[string]ThreadName{},
		Posts: map[string]string{}, Categories: map[string]string{}, Packages: map[string]string{}}
	if err := s.namePairs(ctx, n.Posts, t.SQL(`SELECT id::text, thread_id::text FROM {tenant}.forum_posts WHERE id = ANY($1::uuid[])`),
		uuids(q.Posts)); err != nil {
		return n, fmt.Errorf("posts' threads: %w", err)
	}
	threads := uuids(q.Threads)
	for _, th := range n.Posts {
		threads = append(threads, th)
	}
	if len(threads) > 0 {
		var rows []struct {
			ID string `db:"id"`
			ThreadName
		}
		if err := s.DB.SelectContext(ctx, &rows, t.SQL(`SELECT th.id::text AS id, th.title, c.slug AS category_slug, c.name AS category_name,
				coalesce((SELECT f.id::text FROM {tenant}.forum_posts f WHERE f.thread_id = th.id ORDER BY f.created_at, f.id LIMIT 1), '') AS first_post_id
			FROM {tenant}.forum_threads th JOIN {tenant}.forum_categories c ON c.id = th.category_id
			WHERE th.id = ANY($1::uuid[])`), pq.Array(threads)); err != nil {
			return n, fmt.Errorf("thread names: %w", err)
		}
		for _, r := range rows {
			n.Threads[r.ID] = r.ThreadName
		}
	}
	if len(q.Users) > 0 {
		var rows []struct {
			ID int64 `db:"id"`
			UserName
		}
		if err := s.DB.SelectContext(ctx, &rows, `SELECT id, name, handle FROM users WHERE id = ANY($1)`, pq.Array(q.Users)); err != nil {
			return n, fmt.Errorf("user names: %w", err)
		}
		for _, r := range rows {
			n.Users[r.ID] = r.UserName
		}
	}
	if err := s.namePairs(ctx, n.Agents, t.SQL(`SELECT id::text, name FROM {tenant}.agents WHERE id = ANY($1::uuid[])`), uuids(q.Agents)); err != nil {
		return n, fmt.Errorf("agent names: %w", err)
	}
	if err := s.namePairs(ctx, n.Categories, t.SQL(`SELECT slug, name FROM {tenant}.forum_categories WHERE slug = ANY($1)`), q.Categories); err != nil {
		return n, fmt.Errorf("category names: %w", err)
	}
	if err := s.namePairs(ctx, n.Packages, `SELECT slug, name FROM packages WHERE slug = ANY($1)`, q.Packages); err != nil {
		return n, fmt.Errorf("package names: %w", err)
	}
	return n, nil
}

// namePairs reads (key, value) rows of query over keys into into; no keys,
// no query.
func (s *Store) namePairs(ctx context.Context, into map[string]string, query string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	rows, err := s.DB.QueryContext(ctx, query, pq.Array(keys))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		into[k] = v
	}
	return rows.Err()
}

// uuids keeps the well-formed ids: a payload's id is not trusted to be
// one, and a cast error would fail the whole page.
func uuids(ids []string) []string {
	var out []string
	for _, id := range ids {
		if IsUUID(id) {
			out = append(out, id)
		}
	}
	return out
}
