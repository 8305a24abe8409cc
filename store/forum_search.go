package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Searching the forum (PostgreSQL full text, tenant migrations forum_search
// and forum_post_search): the built-in responder's retrieval and the search
// page both read it. Only published posts of threads in the organization
// are ever found.

// ForumHit is one post that matched, with its thread.
type ForumHit struct {
	PostID      string    `db:"post_id"`
	ThreadID    string    `db:"thread_id"`
	ThreadTitle string    `db:"thread_title"`
	Category    string    `db:"category_name"`
	AuthorName  string    `db:"author_name"`
	Content     string    `db:"content"`
	Excerpt     string    `db:"excerpt"` // plain text around the matched words
	Rank        float64   `db:"rank"`
	CreatedAt   time.Time `db:"created_at"`
}

// ForumQuery is a search.
type ForumQuery struct {
	Text string
	// Any matches posts with any of the words (ranked by how many and how
	// close): the responder's recall. Otherwise every word must match.
	Any bool
	// ExcludeThread leaves one thread out (the one an agent answers in).
	ExcludeThread string
	Limit         int
}

// searchWords picks the words of text worth searching for: letters and
// digits only, so the tsquery built from them can never be malformed.
func searchWords(text string) []string {
	fields := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		if len([]rune(f)) < 2 || seen[f] || len(out) >= 16 {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	return out
}

// SearchForum finds published posts matching q, best first. to_tsquery
// stems the words and drops stop words itself ('english').
func (s *Store) SearchForum(ctx context.Context, t Tenant, q ForumQuery) ([]ForumHit, error) {
	words := searchWords(q.Text)
	if len(words) == 0 {
		return nil, nil
	}
	op := " & "
	if q.Any {
		op = " | "
	}
	var out []ForumHit
	// The candidates are bounded before ranking: ranking every post that
	// shares one common word with a long question is what costs. Ranking
	// is ts_rank (how often the words occur), not ts_rank_cd (how close
	// together): over 100,000 posts (bench/agents) the cover density costs
	// about three times as much per candidate and ranks no better (as many
	// quoted posts on the question's topic), and ranking is most of the
	// responder's time. The candidates come from forum_post_search's
	// narrow rows; forum_posts is read for the few ranked first.
	//
	// The responder quotes answers, so it reads the posts' bodies only, as
	// it did before the search page shared the index: search_doc's weight
	// B (body) part. Its words carry :B to match there (the opening
	// post's title, weight A, does not), and ranking reads the body alone
	// (ts_filter) weighted 0.1, as the unweighted body document was: the
	// same ranks as before, a title never lifting a question above the
	// answers.
	body := make([]string, len(words))
	for i, w := range words {
		body[i] = w + ":B" // words are letters and digits only: never malformed
	}
	err := s.DB.SelectContext(ctx, &out, t.SQL(`WITH q AS (SELECT to_tsquery('english', $1) AS q, to_tsquery('english', $4) AS body),
		c AS (SELECT s.post_id, s.thread_id, s.created_at, s.search_doc
		        FROM {tenant}.forum_post_search s, q
		       WHERE s.search_doc @@ q.body AND NOT s.hidden AND s.thread_id::text <> $2
		       LIMIT 2000),
		top AS (SELECT c.*, ts_rank('{0.1, 0.2, 0.1, 1.0}', ts_filter(c.search_doc, '{b}'), q.q) AS rank FROM c, q ORDER BY rank DESC, c.created_at DESC LIMIT $3)
		SELECT top.post_id, top.thread_id, th.title AS thread_title, cat.name AS category_name,
		       coalesce(u.name, ag.name, 'FleetPrompt') AS author_name, p.content,
		       ts_headline('english', p.content, q.q, 'MaxWords=40, MinWords=15, MaxFragments=2, FragmentDelimiter=" … ", StartSel="", StopSel=""') AS excerpt,
		       top.rank, top.created_at
		  FROM top CROSS JOIN q
		  JOIN {tenant}.forum_posts p ON p.id = top.post_id
		  JOIN {tenant}.forum_threads th ON th.id = top.thread_id
		  JOIN {tenant}.forum_categories cat ON cat.id = th.category_id
		  LEFT JOIN public.users u ON p.author_type = 'human' AND u.id::text = p.author_id
		  LEFT JOIN {tenant}.agents ag ON p.author_type = 'agent' AND ag.id::text = p.author_id
		 ORDER BY top.rank DESC, top.created_at DESC`), strings.Join(words, op), q.ExcludeThread, clampLimit(q.Limit, 50), strings.Join(body, op))
	if err != nil {
		return nil, fmt.Errorf("search forum: %w", err)
	}
	return out, nil
}
