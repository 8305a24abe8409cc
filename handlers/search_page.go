package handlers

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"fleetprompt/store"
)

// searchPage is GET /search: the form, then a page of the threads found.
type searchPage struct {
	Q          string
	Category   string // the slug asked for ("" all)
	Categories []searchCategory
	// Errors are the refused parts of the request, by field (q,
	// category, page); the results say them, the fields point at them.
	Errors    map[string]string
	Searched  bool // a search ran: the words were not blank, the input fine
	Results   []searchResult
	Threads   int
	Capped    bool
	Ranked    int // store.SearchRanked, for the capped note
	NoTerms   bool
	Words     int // how many words were typed, for the advice when none match
	Page      int
	PastEnd   bool // a page after the last: empty
	Moderator bool
	Prev      string // URLs of the neighbouring pages, "" when none
	Next      string
	First     string
}

// searchCategory is one choice of the category filter.
type searchCategory struct {
	Slug, Name string
	Archived   bool
}

// searchResult is one thread found, with its best post.
type searchResult struct {
	URL, CategoryURL string
	Title, Snippet   template.HTML // escaped, with <mark> around the matched words
	Category, Author string
	State            string // the thread's: open, locked or archived
	Reply, Hidden    bool
	CreatedAt        time.Time
}

// fill puts a page of results into d, with its links.
func (d *searchPage) fill(res store.SearchResults, q store.SearchQuery) {
	d.Searched, d.Threads, d.Capped, d.NoTerms = true, res.Threads, res.Capped, res.NoTerms
	d.Words = len(strings.Fields(q.Text))
	d.PastEnd = len(res.Hits) == 0 && q.Page > 1
	for _, hit := range res.Hits {
		d.Results = append(d.Results, searchResult{
			URL:         fmt.Sprintf("/forums/t/%s?page=%d#post-%s", hit.ThreadID, hit.PostPage, hit.PostID),
			CategoryURL: "/forums/c/" + hit.CategorySlug,
			Title:       highlight(hit.Title), Snippet: highlight(ellipses(plainMarkdown(hit.Snippet))),
			Category: hit.CategoryName, Author: hit.AuthorName, State: hit.State(),
			Reply: !hit.Opening, Hidden: hit.PostStatus != store.PostPublished, CreatedAt: hit.CreatedAt,
		})
	}
	if res.Pager.HasPrev {
		d.Prev = d.url(q.Page - 1)
		d.First = d.url(1)
	}
	if res.Pager.HasNext {
		d.Next = d.url(q.Page + 1)
	}
}

// url is this search's page n.
func (d *searchPage) url(n int) string {
	v := url.Values{"q": {d.Q}}
	if d.Category != "" {
		v.Set("category", d.Category)
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	return "/search?" + v.Encode()
}
