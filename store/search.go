package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Forum search (SPEC §16, GET /search). Every post has one document
// (tenant migration forum_search): its body, and on a thread's opening post the
// thread's title too, weighted above the body, so a title match ranks
// first. The result is one line per thread, its best post with a
// highlighted snippet.

const (
	// SearchPerPage sizes a page of results.
	SearchPerPage = 20
	// MaxSearchText is the longest search accepted, in characters.
	MaxSearchText = 200
	// SearchRanked is how many matching posts are ranked, the newest: a
	// word found in most posts would otherwise have every one of them
	// read and scored on every keystroke, which is what costs. A search
	// matching more is too broad for its older tail to matter, and
	// SearchResults.Capped lets the page say so.
	SearchRanked = 1000
	// searchTitles is how many threads matched by their title are ranked
	// whatever their age (pinned ones, then the latest by activity: the
	// forum's own order, read from its index), so an old thread named for
	// the words is not lost behind SearchRanked newer replies.
	searchTitles = 100
)

// SearchMarkStart and SearchMarkStop enclose the matched words in a
// SearchHit's Title and Snippet. They are private-use characters, taken
// out of the text before it is marked, so every one in the output is the
// search's own: the page escapes everything else (views never trust post
// text) and turns only these into <mark>.
const (
	SearchMarkStart = "\uE000"
	SearchMarkStop  = "\uE001"
)

// SearchQuery is one search as one reader makes it.
type SearchQuery struct {
	// Text is what was typed, in web search syntax: words (all must
	// match), "a phrase", or, -word.
	Text string
	// CategoryID limits the search to one category; "" searches all.
	CategoryID string
	// Moderator finds hidden posts too (the page marks them). Deleted
	// posts are never found.
	Moderator bool
	Page      int // 1-based
}

// Validate checks the text's length and the page; the category is the
// caller's to resolve (an unknown one is the caller's message).
func (q SearchQuery) Validate() error {
	v := &ValidationError{}
	if n := utf8.RuneCountInString(q.Text); n > MaxSearchText {
		v.Add("q", fmt.Sprintf("is too long: at most %d characters (this is %d)", MaxSearchText, n))
	}
	if q.Page < 1 {
		v.Add("page", "must be a page number: 1 or more")
	}
	return v.OrNil()
}

// SearchHit is a thread found, with its best-ranked post.
type SearchHit struct {
	ThreadID       string `db:"thread_id"`
	Title          string `db:"title"` // the matched words marked
	ThreadStatus   string `db:"thread_status"`
	CategorySlug   string `db:"category_slug"`
	CategoryName   string `db:"category_name"`
	CategoryStatus string `db:"category_status"`
	PostID         string `db:"post_id"`
	PostStatus     string `db:"post_status"`
	// Opening says the post is the thread's first (the title's match is
	// its own); otherwise it is a reply.
	Opening    bool   `db:"opening"`
	AuthorName string `db:"author_name"`
	// Snippet is the post's text (its Markdown source, as plain text)
	// around the matched words, which are marked.
	Snippet   string    `db:"snippet"`
	Rank      float64   `db:"rank"`
	CreatedAt time.Time `db:"created_at"`
	// PostPage is the page of the thread the post is on for this reader
	// (moderators' pages count unpublished posts).
	PostPage int `db:"post_page"`
}

// searchRow is a hit with what the query says of the whole search.
type searchRow struct {
	SearchHit
	Threads int  `db:"threads"`
	Capped  bool `db:"capped"`
}

// State is the thread as its page shows it: archived with its category.
func (h SearchHit) State() string {
	if h.CategoryStatus == CategoryArchived {
		return ThreadArchived
	}
	return h.ThreadStatus
}

// SearchResults is one page of a search.
type SearchResults struct {
	Hits []SearchHit
	// Threads counts the threads found among the ranked posts.
	Threads int
	// Capped says more posts matched than SearchRanked: the threads found
	// are those of the newest matches (and the old ones titled for it).
	Capped bool
	Pager  Pager
	// NoTerms says the text has nothing to search for: only words too
	// common to index ("the", "is") or punctuation.
	NoTerms bool
}

// Search finds the threads of the organization whose posts match q, best
// first, one page at a time. A page past the last is empty (Pager says
// so), never an error. Invalid input is a *ValidationError.
func (s *Store) Search(ctx context.Context, t Tenant, q SearchQuery) (SearchResults, error) {
	var res SearchResults
	if err := q.Validate(); err != nil {
		return res, err
	}
	q.Text = strings.ToValidUTF8(strings.TrimSpace(q.Text), "")
	res.Pager = Pager{Page: q.Page, HasPrev: q.Page > 1}
	if q.Text == "" {
		return res, nil
	}
	category := sql.NullString{String: q.CategoryID, Valid: q.CategoryID != ""}
	if category.Valid && !IsUUID(category.String) {
		return res, Invalid("category", "is not a category of this organization")
	}
	var rows []searchRow
	if err := s.DB.SelectContext(ctx, &rows, t.SQL(searchSQL), searchArgs(q, category)...); err != nil {
		return res, fmt.Errorf("search %q: %w", q.Text, err)
	}
	for i, r := range rows {
		if i == SearchPerPage {
			res.Pager.HasNext = true
			break
		}
		res.Hits = append(res.Hits, r.SearchHit)
		res.Threads, res.Capped = r.Threads, r.Capped
	}
	if len(rows) == 0 && q.Page == 1 {
		// Nothing found: say whether there was anything to look for.
		err := s.DB.GetContext(ctx, &res.NoTerms, `SELECT numnode(websearch_to_tsquery('english', $1)) = 0`, q.Text)
		if err != nil {
			return res, fmt.Errorf("search terms of %q: %w", q.Text, err)
		}
	}
	return res, nil
}

// SearchCategories lists the categories a search may be limited to,
// active first, without the thread counts ForumCategories adds (the
// search page asks on every keystroke).
func (s *Store) SearchCategories(ctx context.Context, t Tenant) ([]ForumCategory, error) {
	var cs []ForumCategory
	if err := s.DB.SelectContext(ctx, &cs, t.SQL(`SELECT `+categoryColumns+` FROM {tenant}.forum_categories c
		ORDER BY c.status = 'archived', c.name, c.id`)); err != nil {
		return nil, fmt.Errorf("search categories: %w", err)
	}
	return cs, nil
}

// searchArgs are searchSQL's parameters.
func searchArgs(q SearchQuery, category sql.NullString) []any {
	return append([]any{q.Text, q.Moderator, category, (q.Page - 1) * SearchPerPage, SearchPerPage + 1,
		SearchMarkStart + SearchMarkStop, headlineOptions, titleOptions, ForumPostsPerPage, SearchRanked, searchTitles}, searchPeriodParams(time.Now())...)
}

// ExplainSearch is the plan PostgreSQL runs Search with, run and timed
// (EXPLAIN ANALYZE, BUFFERS): bench/search prints it, an operator may
// read it. q must be valid and not blank.
func (s *Store) ExplainSearch(ctx context.Context, t Tenant, q SearchQuery) ([]string, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	category := sql.NullString{String: q.CategoryID, Valid: q.CategoryID != ""}
	var lines []string
	if err := s.DB.SelectContext(ctx, &lines, `EXPLAIN (ANALYZE, BUFFERS) `+t.SQL(searchSQL), searchArgs(q, category)...); err != nil {
		return nil, fmt.Errorf("explain search %q: %w", q.Text, err)
	}
	return lines, nil
}

// A snippet is made from snippetWindow characters of its post, starting
// snippetLead before the first match.
const (
	snippetWindowText = "320"
	snippetLeadText   = "100"
)

// headlineOptions and titleOptions are ts_headline's: a snippet of up to
// two fragments of a post around the matched words; a whole title.
var (
	headlineOptions = `MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … ", StartSel="` + SearchMarkStart + `", StopSel="` + SearchMarkStop + `"`
	titleOptions    = `HighlightAll=true, StartSel="` + SearchMarkStart + `", StopSel="` + SearchMarkStop + `"`
)

// searchSQL is the search. $1 the text, $2 moderator, $3 the category
// (NULL: all), $4 offset, $5 limit, $6 the markers, $7 and $8 the
// headline options, $9 posts per thread page, $10 SearchRanked, $11
// searchTitles, from $12 on the periods (searchPeriodParams).
//
// The tsquery is written out where it is used, not taken from a CTE, so
// the planner sees it and estimates how many posts match: for a rare word
// it reads the GIN index and sorts the few matches by date; for a common
// one it walks forum_post_search_recent newest first and stops at
// SearchRanked. Either way it does so a period at a time (search_periods.go).
// Choosing and ranking read forum_post_search (tenant migration
// forum_post_search), narrow rows; forum_posts is read for the page of
// hits only.
var searchSQL = `WITH terms AS MATERIALIZED (
	-- The stems of the words typed, once (snippets look for them).
	SELECT tsvector_to_array(to_tsvector('english', $1)) AS stems
), ` + searchPeriodsSQL(12) + `, titles AS (
	SELECT o.post_id, o.thread_id, o.created_at, o.search_doc
	  FROM {tenant}.forum_threads th
	  JOIN {tenant}.forum_post_search o ON o.thread_id = th.id AND o.opening
	 WHERE th.search @@ websearch_to_tsquery('english', $1)
	   AND (NOT o.hidden OR $2::boolean)
	   AND ($3::uuid IS NULL OR th.category_id = $3::uuid)
	 ORDER BY th.pinned DESC, th.last_post_at DESC -- forum_threads_latest's order: walked, stopped at the limit
	 LIMIT $11::int
), ranked AS (
	SELECT DISTINCT ON (c.thread_id) c.post_id AS id, c.thread_id, c.created_at, ts_rank(c.search_doc, websearch_to_tsquery('english', $1)) AS rank
	  FROM (SELECT * FROM posts UNION ALL SELECT * FROM titles) c
	 ORDER BY c.thread_id, rank DESC, c.created_at DESC, c.post_id
), page AS (
	SELECT r.*, count(*) OVER () AS threads FROM ranked r ORDER BY r.rank DESC, r.created_at DESC, r.id OFFSET $4 LIMIT $5
),
-- The page's hits with what is shown of them. Scalar subqueries, not
-- joins, keep planning short; OFFSET 0 keeps each evaluated once.
hits AS (
	SELECT page.*, p.content, p.status AS post_status, p.author_type, p.author_id, th.title, th.status AS thread_status,
	       cat.slug AS category_slug, cat.name AS category_name, cat.status AS category_status,
	       -- The post's place in its thread as this reader's thread page
	       -- counts it: every earlier post (forum_posts_thread), less the
	       -- unpublished ones for a member (forum_posts_unpublished: few).
	       (SELECT count(*) FROM {tenant}.forum_posts e WHERE e.thread_id = p.thread_id AND (e.created_at, e.id) < (p.created_at, p.id)) AS before,
	       (SELECT count(*) FROM {tenant}.forum_posts n WHERE NOT $2::boolean AND n.thread_id = p.thread_id
	           AND n.status <> 'published' AND (n.created_at, n.id) < (p.created_at, p.id)) AS unpublished,
	       -- ts_headline parses all the text it is given (a long post costs
	       -- milliseconds): it gets a window of the post from a little
	       -- before the first place one of the words' stems appears.
	       (SELECT greatest(coalesce(min(nullif(strpos(lower(p.content), l), 0)), 1) - ` + snippetLeadText + `, 1)
	          FROM unnest((SELECT stems FROM terms)) l) AS start
	  FROM page
	  JOIN {tenant}.forum_posts p ON p.id = page.id
	  JOIN {tenant}.forum_threads th ON th.id = page.thread_id
	  JOIN {tenant}.forum_categories cat ON cat.id = th.category_id
	OFFSET 0
)
SELECT h.thread_id, ts_headline('english', translate(h.title, $6, ''), websearch_to_tsquery('english', $1), $8) AS title,
       h.thread_status, h.category_slug, h.category_name, h.category_status, h.id AS post_id, h.post_status, h.before = 0 AS opening,
       coalesce((SELECT name FROM public.users WHERE id = CASE WHEN h.author_type = 'human' AND h.author_id ~ '^[0-9]{1,18}$' THEN h.author_id::bigint END),
                (SELECT name FROM {tenant}.agents WHERE h.author_type = 'agent' AND id::text = h.author_id),
                CASE h.author_type WHEN 'system' THEN 'FleetPrompt' WHEN 'agent' THEN 'Agent' ELSE '' END) AS author_name,
       ts_headline('english', translate(substr(h.content, h.start, ` + snippetWindowText + `), $6, ''), websearch_to_tsquery('english', $1), $7) AS snippet,
       h.rank, h.created_at, (h.before - h.unpublished) / $9::int + 1 AS post_page, h.threads,
       (SELECT count(*) FROM posts) > $10::int AS capped
  FROM hits h
 ORDER BY h.rank DESC, h.created_at DESC, h.id`
