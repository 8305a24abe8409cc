package handlers

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

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

// searchRequest is what GET /search asked for, read from the query
// string, with what is wrong with it by field. It decides nothing else.
func searchRequest(c *gin.Context) (q store.SearchQuery, slug string, errs map[string]string) {
	errs = map[string]string{}
	q = store.SearchQuery{Text: strings.TrimSpace(c.Query("q")), Page: 1}
	slug = strings.TrimSpace(c.Query("category"))
	if p, ok := c.GetQuery("page"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			errs["page"] = fmt.Sprintf("Page %q is not a page number: use 1 or more.", p)
		} else {
			q.Page = n
		}
	}
	if err := q.Validate(); err != nil {
		var v *store.ValidationError
		if errors.As(err, &v) && v.Fields["q"] != "" {
			errs["q"] = "Your search " + v.Fields["q"] + ". Use fewer words."
		}
	}
	return q, slug, errs
}

// search is GET /search?q=&category=&page=. Members find published posts;
// moderators (owners and admins) hidden ones too, marked; deleted posts
// nobody. Threads of archived categories are found, marked archived: they
// are read-only, not gone. Refused input is a 422 with the form kept.
// htmx (the form, as you type) gets the results block only.
func (h *Handler) search(c *gin.Context) error {
	ctx, t, a := c.Request.Context(), tenant(c), authOf(c)
	q, slug, errs := searchRequest(c)
	q.Moderator = a.Member.IsAdmin()
	d := searchPage{Q: q.Text, Category: slug, Errors: errs, Page: q.Page, Moderator: q.Moderator, Ranked: store.SearchRanked}
	cats, err := h.store.SearchCategories(ctx, t)
	if err != nil {
		return err
	}
	for _, cat := range cats {
		d.Categories = append(d.Categories, searchCategory{Slug: cat.Slug, Name: cat.Name, Archived: cat.Archived()})
		if cat.Slug == slug {
			q.CategoryID = cat.ID
		}
	}
	if slug != "" && q.CategoryID == "" {
		errs["category"] = fmt.Sprintf("There is no category %q in %s: search every category, or choose one from the list.", slug, a.Member.OrgName)
	}
	if len(errs) == 0 && q.Text != "" {
		res, err := h.store.Search(ctx, t, q)
		if err != nil {
			return err
		}
		d.fill(res, q)
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	title := "Search"
	if q.Text != "" {
		title = q.Text + " · Search"
	}
	return h.render(c, status, "search", "search_results", h.page(c, title, d))
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

// highlight escapes s and turns the search's markers (and only them)
// into <mark>, balanced: the text is the post's, never trusted.
func highlight(s string) template.HTML {
	var b strings.Builder
	open := false
	for s != "" {
		i := strings.IndexAny(s, store.SearchMarkStart+store.SearchMarkStop)
		if i < 0 {
			b.WriteString(template.HTMLEscapeString(s))
			break
		}
		b.WriteString(template.HTMLEscapeString(s[:i]))
		switch start := strings.HasPrefix(s[i:], store.SearchMarkStart); {
		case start && !open:
			b.WriteString("<mark>")
			open = true
		case !start && open:
			b.WriteString("</mark>")
			open = false
		}
		s = s[i+len(store.SearchMarkStart):] // both markers are 3 bytes long
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String()) //nolint:gosec // every byte of s escaped above; the tags are ours
}

// plainMarkdown is a snippet of Markdown source as one line of text:
// emphasis, heading and quote marks dropped, white space collapsed.
func plainMarkdown(s string) string {
	s = strings.NewReplacer("#", "", "*", "", "`", "", ">", "").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// ellipses marks a snippet cut from the middle of its post: "…" before
// one that starts mid-sentence (a lowercase letter), after one that does
// not end a sentence.
func ellipses(s string) string {
	plain := strings.Trim(strings.NewReplacer(store.SearchMarkStart, "", store.SearchMarkStop, "").Replace(s), " ")
	if plain == "" {
		return s
	}
	first, _ := utf8.DecodeRuneInString(plain)
	last, _ := utf8.DecodeLastRuneInString(plain)
	if unicode.IsLower(first) {
		s = "…" + s
	}
	if !strings.ContainsRune(".!?…:;)\"'", last) {
		s += "…"
	}
	return s
}
