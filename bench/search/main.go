// Command search measures forum search (GET /search, SPEC §16) over
// -posts posts (100,000 by default) in -threads threads: a plain member's
// signed-in GET /search?q= through the real handlers and store over
// loopback HTTP (session, categories, the query, snippets, the page
// rendered), one request at a time, for queries of every selectivity:
// a word in nearly every post down to one in none, two words, a phrase,
// or, an exclusion, a category, a later page. It prints each query's
// matching posts and latency, the samples' spread, CPU per query (this
// process and PostgreSQL), the plan of a typical query (EXPLAIN ANALYZE),
// and what the figure leaves out. The figure to meet: p99 ≤ 50 ms over
// at least 1,000 samples.
//
// The posts are synthetic text: a Zipf-distributed vocabulary (a few
// words in most posts, a long tail of rare ones), a third stop words, a
// few long posts (1,000-2,500 words), 2 % hidden and 1 % deleted, some
// threads hot with hundreds of replies, each stored with its rendered
// HTML as the app stores it. They are written straight into the tenant's
// tables in batches (the search triggers run as for any write); the
// bench is about reading them.
//
// It runs on a private PostgreSQL unless DATABASE_URL is set (then in
// that database).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"

	"fleetprompt/bench/benchsite"
	"fleetprompt/store"
)

func main() {
	var (
		posts   = flag.Int("posts", 100000, "posts in the forum")
		threads = flag.Int("threads", 5000, "threads they are in")
		samples = flag.Int("samples", 1200, "timed searches (after -warmup)")
		warmup  = flag.Int("warmup", 100, "searches before timing starts")
		fast    = flag.Bool("fast", false, "private server without fsync (loading only; searches read)")
	)
	flag.Parse()
	ctx := context.Background()
	site, err := benchsite.Start(ctx, benchsite.Options{Fast: *fast, Posts: 1})
	if err != nil {
		fail(err)
	}
	defer site.Close()
	w := newWriter(site, rand.New(rand.NewPCG(1, 2)))
	start := time.Now()
	if err := w.fill(ctx, *threads, *posts); err != nil {
		fail(err)
	}
	fmt.Printf("search: wrote %d threads and %d posts in %s\n", *threads, *posts, time.Since(start).Round(time.Second))

	email, err := site.AddMember(ctx, 1, store.RoleMember)
	if err != nil {
		fail(err)
	}
	client := signIn(site, email)
	queries := w.queries()
	if err := countMatches(ctx, site, queries); err != nil {
		fail(err)
	}
	run(site, client, queries, *warmup, *samples)
	explain(ctx, site, queries)
	sizes(ctx, site)
	leftOut()
}

// query is one search of the mix, with what it matches.
type query struct {
	name, q, category string
	page              int
	matches           int // published posts matching (SQL count)
	times             []time.Duration
	cpu               []time.Duration // CPU time per search: this process and PostgreSQL
}

func (q *query) path() string {
	v := url.Values{"q": {q.q}}
	if q.category != "" {
		v.Set("category", q.category)
	}
	if q.page > 1 {
		v.Set("page", fmt.Sprint(q.page))
	}
	return "/search?" + v.Encode()
}

// writer makes the synthetic forum.
type writer struct {
	site  *benchsite.Site
	rnd   *rand.Rand
	vocab []string
	zipf  *rand.Zipf
	cats  []string // category ids; the last is archived
	slugs []string
	df    map[string]int // posts a word is in
	total int
}

var stopWords = strings.Fields("the a is to and of in it for on with that this i we you be are was not")

// domain words head the vocabulary, so the common words are real ones.
var domain = strings.Fields(`agent deploy workflow error install package forum thread reply model prompt token latency memory
database query index search webhook signal directive job runner queue retry timeout config secret key api request response
page cache session login user member admin owner role team invite billing plan tier usage limit quota chart report export
import schedule cron trigger step approve reject cancel run test chat message stream server client browser mobile layout
button form field label warning success failure log trace metric alert notify email slack github docker kubernetes cluster
node container image volume network proxy certificate json yaml file upload download storage bucket backup restore migrate
upgrade version release changelog feature bug fix patch issue ticket support help question answer solution idea feedback
review rating price license community guide tutorial example sample demo template theme style color font icon avatar
profile setting language timezone calendar event meeting video audio voice speech translate summary classify extract embed
vector similarity rank score filter sort group join split merge compare validate parse format render compile build ship
monitor scale shard replica failover lock unlock pin solve flag hide delete edit revise react`)

func newWriter(site *benchsite.Site, rnd *rand.Rand) *writer {
	w := &writer{site: site, rnd: rnd, df: map[string]int{}}
	seen := map[string]bool{}
	for _, d := range domain {
		seen[d] = true
		w.vocab = append(w.vocab, d)
	}
	// A long tail of made-up words from syllables: each a lexeme of its own.
	syl := strings.Fields("ka lo mi ru te va zo ne pi da fu ko ri sa tu ve xo ba me ly")
	for len(w.vocab) < 20000 {
		var b strings.Builder
		for range 2 + rnd.IntN(3) {
			b.WriteString(syl[rnd.IntN(len(syl))])
		}
		if !seen[b.String()] {
			seen[b.String()] = true
			w.vocab = append(w.vocab, b.String())
		}
	}
	w.zipf = rand.NewZipf(rnd, 1.05, 1, uint64(len(w.vocab)-1))
	return w
}

func (w *writer) word() string {
	if w.rnd.IntN(3) == 0 {
		return stopWords[w.rnd.IntN(len(stopWords))]
	}
	return w.vocab[w.zipf.Uint64()]
}

func (w *writer) text(n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = w.word()
	}
	s := strings.Join(words, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// fill writes the categories, threads and posts.
func (w *writer) fill(ctx context.Context, nThreads, nPosts int) error {
	st, tn := w.site.Store, w.site.Tenant
	for i, name := range []string{"Announcements", "Help", "Ideas", "Show and tell", "Old questions"} {
		c, err := st.CreateForumCategory(ctx, tn, w.site.UserID, store.NewForumCategory{Name: name})
		if err != nil {
			return err
		}
		if i == 4 {
			if _, _, err := st.ArchiveForumCategory(ctx, tn, w.site.UserID, c.Slug); err != nil {
				return err
			}
		}
		w.cats, w.slugs = append(w.cats, c.ID), append(w.slugs, c.Slug)
	}
	// Two years of posts, oldest first; the first nThreads open a thread
	// each, the rest reply: 30 % in 50 hot threads, the others anywhere.
	span := 2 * 365 * 24 * time.Hour
	t0 := time.Now().Add(-span)
	step := span / time.Duration(nPosts)
	ids := make([]string, nThreads)
	var th threadBatch
	for i := range nThreads {
		th.add(w.cats[i%len(w.cats)], w.text(3+w.rnd.IntN(7)), t0.Add(time.Duration(i)*step))
	}
	if err := th.insert(ctx, st, tn, w.site.UserID, ids); err != nil {
		return err
	}
	var pb postBatch
	for i := range nPosts {
		thread := i
		if i >= nThreads {
			thread = w.rnd.IntN(nThreads)
			if w.rnd.IntN(10) < 3 {
				thread = w.rnd.IntN(50)
			}
		}
		n := 15 + w.rnd.IntN(106)
		if w.rnd.IntN(50) == 0 {
			n = 1000 + w.rnd.IntN(1501)
		}
		body := w.text(n)
		if len(body) > store.MaxPostContent {
			body = strings.TrimSpace(body[:store.MaxPostContent])
		}
		status := store.PostPublished
		switch r := w.rnd.IntN(100); {
		case r < 2:
			status = store.PostHidden
		case r < 3:
			status = store.PostDeleted
		}
		if status == store.PostPublished {
			w.count(body)
		}
		pb.add(ids[thread], body, status, fmt.Sprint(w.site.UserID), t0.Add(time.Duration(i)*step))
		if len(pb.threads) == 2000 || i == nPosts-1 {
			if err := pb.insert(ctx, st, tn); err != nil {
				return err
			}
			pb = postBatch{}
		}
	}
	_, err := st.DB.ExecContext(ctx, tn.SQL(`UPDATE {tenant}.forum_threads th SET post_count = c.n, last_post_at = c.last
		FROM (SELECT thread_id, count(*) FILTER (WHERE status = 'published') AS n, max(created_at) AS last
		        FROM {tenant}.forum_posts GROUP BY thread_id) c
		WHERE c.thread_id = th.id`))
	for _, table := range []string{"forum_posts", "forum_post_search", "forum_threads"} {
		if err == nil {
			_, err = st.DB.ExecContext(ctx, tn.SQL(`VACUUM ANALYZE {tenant}.`+table))
		}
	}
	return err
}

// count notes which words a published post has (for picking queries).
func (w *writer) count(body string) {
	seen := map[string]bool{}
	for _, f := range strings.Fields(strings.ToLower(strings.TrimSuffix(body, "."))) {
		if !seen[f] {
			seen[f] = true
			w.df[f]++
		}
	}
	w.total++
}

type threadBatch struct {
	cats, titles []string
	at           []time.Time
}

func (b *threadBatch) add(cat, title string, at time.Time) {
	if len(title) > store.MaxThreadTitle {
		title = strings.TrimSpace(title[:store.MaxThreadTitle])
	}
	b.cats, b.titles, b.at = append(b.cats, cat), append(b.titles, title), append(b.at, at)
}

func (b *threadBatch) insert(ctx context.Context, st *store.Store, tn store.Tenant, author int64, ids []string) error {
	rows, err := st.DB.QueryContext(ctx, tn.SQL(`INSERT INTO {tenant}.forum_threads (category_id, title, created_by_user_id, created_at, last_post_at)
		SELECT c, t, $4, a, a FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS x(c, t, a, n) ORDER BY n
		RETURNING id`), pq.Array(b.cats), pq.Array(b.titles), pq.Array(b.at), author)
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		if err := rows.Scan(&ids[i]); err != nil {
			return err
		}
		i++
	}
	return rows.Err()
}

type postBatch struct {
	threads, bodies, html, statuses, authors []string
	at                                       []time.Time
}

// add queues a post with its rendered HTML, as the app stores it (the
// rows are as wide as real ones).
func (b *postBatch) add(thread, body, status, author string, at time.Time) {
	b.threads, b.bodies, b.statuses = append(b.threads, thread), append(b.bodies, body), append(b.statuses, status)
	b.html = append(b.html, string(store.RenderMarkdown(body)))
	b.authors, b.at = append(b.authors, author), append(b.at, at)
}

func (b *postBatch) insert(ctx context.Context, st *store.Store, tn store.Tenant) error {
	_, err := st.DB.ExecContext(ctx, tn.SQL(`INSERT INTO {tenant}.forum_posts (thread_id, content, content_html, status, author_type, author_id, created_at, updated_at)
		SELECT th, c, h, s, 'human', a, t, t FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) WITH ORDINALITY AS x(th, c, h, s, a, t, n)
		ORDER BY n`), pq.Array(b.threads), pq.Array(b.bodies), pq.Array(b.html), pq.Array(b.statuses), pq.Array(b.authors), pq.Array(b.at))
	return err
}

// queries picks the mix: words by the share of posts they are in.
func (w *writer) queries() []*query {
	type wf struct {
		w string
		n int
	}
	var all []wf
	for k, n := range w.df {
		if !isStop(k) {
			all = append(all, wf{k, n})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || all[i].n == all[j].n && all[i].w < all[j].w })
	near := func(share float64) string { // the word whose share is closest
		best, diff := all[0].w, math.Inf(1)
		for _, x := range all {
			if d := math.Abs(float64(x.n)/float64(w.total) - share); d < diff {
				best, diff = x.w, d
			}
		}
		return best
	}
	common, c30, c10, c3, c1 := all[0].w, near(0.30), near(0.10), near(0.03), near(0.01)
	rare, rarest := near(0.001), near(0.0001)
	return []*query{
		{name: "most common word", q: common},
		{name: "~30% of posts", q: c30},
		{name: "~10% of posts", q: c10},
		{name: "~3% of posts", q: c3},
		{name: "~1% of posts", q: c1},
		{name: "~0.1% of posts", q: rare},
		{name: "~0.01% of posts", q: rarest},
		{name: "no post", q: "xylophonequartz"},
		{name: "two common words", q: common + " " + c10},
		{name: "phrase", q: `"` + c3 + " " + c30 + `"`},
		{name: "or", q: rare + " or " + c1},
		{name: "exclusion", q: c10 + " -" + c30},
		{name: "in a category", q: c3, category: w.slugs[1]},
		{name: "page 3", q: c30, page: 3},
	}
}

func isStop(s string) bool {
	for _, w := range stopWords {
		if s == w {
			return true
		}
	}
	return false
}

// countMatches asks PostgreSQL how many published posts each query
// matches, so the spread of selectivity is measured, not assumed.
func countMatches(ctx context.Context, site *benchsite.Site, qs []*query) error {
	for _, q := range qs {
		if err := site.Store.DB.GetContext(ctx, &q.matches, site.Tenant.SQL(`SELECT count(*) FROM {tenant}.forum_post_search
			WHERE search_doc @@ websearch_to_tsquery('english', $1) AND NOT hidden`), q.q); err != nil {
			return err
		}
	}
	return nil
}

func signIn(site *benchsite.Site, email string) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	for _, step := range []struct{ path, body string }{
		{"/login", url.Values{"email": {email}, "password": {site.Password}}.Encode()},
		{"/org/select", url.Values{"slug": {site.Tenant.Slug}}.Encode()},
	} {
		req, _ := http.NewRequest(http.MethodPost, site.URL+step.path, strings.NewReader(step.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", site.URL)
		resp, err := c.Do(req)
		if err != nil {
			fail(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return c
}

func get(c *http.Client, base, path string) (time.Duration, int) {
	t0 := time.Now()
	resp, err := c.Get(base + path)
	if err != nil {
		fail(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-testid="search-results"`) {
		fail(fmt.Errorf("GET %s: %d, not the results page:\n%.500s", path, resp.StatusCode, body))
	}
	return d, strings.Count(string(body), `data-testid="search-hit"`)
}

// run times the searches, the queries in a shuffled round robin.
func run(site *benchsite.Site, c *http.Client, qs []*query, warmup, samples int) {
	order := make([]int, 0, samples)
	for len(order) < samples {
		for i := range qs {
			order = append(order, i)
		}
	}
	order = order[:samples]
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	hits := make([]int, len(qs))
	for i := range warmup {
		_, hits[i%len(qs)] = get(c, site.URL, qs[i%len(qs)].path())
	}
	meter := newCPUMeter(site)
	load0 := loadavg()
	t0 := time.Now()
	var all, cpus []time.Duration
	var selfCPU, dbCPU time.Duration
	for _, i := range order {
		self0, db0 := meter.now()
		d, n := get(c, site.URL, qs[i].path())
		self1, db1 := meter.now()
		selfCPU, dbCPU = selfCPU+self1-self0, dbCPU+db1-db0
		qs[i].times = append(qs[i].times, d)
		qs[i].cpu = append(qs[i].cpu, self1-self0+db1-db0)
		cpus = append(cpus, self1-self0+db1-db0)
		hits[i] = n
		all = append(all, d)
	}
	wall := time.Since(t0)
	load1 := loadavg()

	fmt.Printf("\nqueries (a plain member; matching = published posts the words match):\n")
	fmt.Printf("  %-18s %-34s %9s %5s %9s %9s %9s %9s\n", "query", "q", "matching", "hits", "p50", "p99", "max", "CPU p50")
	for i, q := range qs {
		sortD(q.times)
		sortD(q.cpu)
		label := q.q
		if q.category != "" {
			label += " [category " + q.category + "]"
		}
		if q.page > 1 {
			label += fmt.Sprintf(" [page %d]", q.page)
		}
		fmt.Printf("  %-18s %-34.34s %9d %5d %9s %9s %9s %9s\n", q.name, label, q.matches, hits[i], pct(q.times, 50), pct(q.times, 99), pct(q.times, 100), pct(q.cpu, 50))
	}
	sortD(all)
	fmt.Printf("\nspread of %d samples (%d warm-up searches not counted), one at a time:\n", len(all), warmup)
	for _, p := range []float64{0, 10, 25, 50, 75, 90, 95, 99, 99.9, 100} {
		fmt.Printf("  p%-5v %9s\n", p, pct(all, p))
	}
	histogram(all)
	n := time.Duration(len(all))
	sortD(cpus)
	fmt.Printf("\nCPU per search: %s in this process (HTTP server, handlers, rendering and the client) + %s in PostgreSQL on average; wall %s per search\n",
		(selfCPU / n).Round(time.Microsecond), (dbCPU / n).Round(time.Microsecond), (wall / n).Round(time.Microsecond))
	fmt.Printf("CPU time of each search (both processes; what a search costs when it never waits for a CPU): p50 %s, p90 %s, p99 %s, max %s\n",
		pct(cpus, 50), pct(cpus, 90), pct(cpus, 99), pct(cpus, 100))
	fmt.Printf("machine load (1-minute average, %d CPUs): %s before the timed searches, %s after\n", runtime.NumCPU(), load0, load1)
	verdict := "MEETS"
	if pct(all, 99) > 50*time.Millisecond {
		verdict = "MISSES"
	}
	fmt.Printf("\nsearch: %d posts, %d samples: p50 %s, p99 %s, max %s — %s p99 ≤ 50 ms (CPU per search p99 %s)\n",
		countPosts(site), len(all), pct(all, 50), pct(all, 99), pct(all, 100), verdict, pct(cpus, 99))
}

func histogram(d []time.Duration) {
	edges := []time.Duration{2, 5, 10, 15, 20, 30, 50, 100, 1 << 40}
	counts := make([]int, len(edges))
	for _, x := range d {
		for i, e := range edges {
			if x < e*time.Millisecond {
				counts[i]++
				break
			}
		}
	}
	lo := "0"
	for i, e := range edges {
		hi := fmt.Sprintf("%d ms", e)
		if i == len(edges)-1 {
			hi = "∞"
		}
		fmt.Printf("  %5s – %-6s %5d %s\n", lo, hi, counts[i], strings.Repeat("#", (counts[i]*60+len(d)-1)/len(d)))
		lo = fmt.Sprint(int64(e))
	}
}

// loadavg is the machine's 1-minute load average: how shared it was.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func countPosts(site *benchsite.Site) int {
	var n int
	site.Store.DB.Get(&n, site.Tenant.SQL(`SELECT count(*) FROM {tenant}.forum_posts`))
	return n
}

// explain prints the plan of a typical search: a word in about 3 % of
// posts, as a member.
func explain(ctx context.Context, site *benchsite.Site, qs []*query) {
	q := qs[3]
	lines, err := site.Store.ExplainSearch(ctx, site.Tenant, store.SearchQuery{Text: q.q, Page: 1})
	if err != nil {
		fail(err)
	}
	fmt.Printf("\nplan of a typical search (%s: %q, %d matching posts):\n", q.name, q.q, q.matches)
	for _, l := range lines {
		fmt.Println("  " + l)
	}
	// And of the most common word, which takes the other path.
	lines, err = site.Store.ExplainSearch(ctx, site.Tenant, store.SearchQuery{Text: qs[0].q, Page: 1})
	if err != nil {
		fail(err)
	}
	fmt.Printf("\nplan of the most common word (%q, %d matching posts), scan and totals only:\n", qs[0].q, qs[0].matches)
	for _, l := range lines {
		if strings.Contains(l, "Scan") || strings.Contains(l, "Time:") {
			fmt.Println("  " + l)
		}
	}
}

func sizes(ctx context.Context, site *benchsite.Site) {
	var s struct {
		Posts, Search, Index, Buffers string
	}
	site.Store.DB.GetContext(ctx, &s, site.Tenant.SQL(`SELECT pg_size_pretty(pg_total_relation_size('{tenant}.forum_posts')) AS posts,
		pg_size_pretty(pg_total_relation_size('{tenant}.forum_post_search')) AS search,
		pg_size_pretty(pg_relation_size('{tenant}.forum_post_search_doc')) AS index, current_setting('shared_buffers') AS buffers`))
	fmt.Printf("\nsizes: forum_posts with its indexes and TOAST %s; forum_post_search (what a search chooses and ranks from) %s, of which the GIN index %s; shared_buffers %s\n",
		s.Posts, s.Search, s.Index, s.Buffers)
}

func leftOut() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprint(w, `
what the figure leaves out:
  - one search at a time from one client: no concurrent searches, and no writes (replies, edits)
    landing meanwhile; both would queue on the machine's two cores.
  - a warm cache: the whole forum fits in PostgreSQL's buffers and the OS page cache; a forum larger
    than memory reads from disk on a cold query.
  - synthetic text: a Zipf vocabulary over made-up words, not language; real posts have longer,
    more varied documents, code blocks and links.
  - loopback HTTP without TLS or compression; a browser adds its network and render time.
  - the bound on broad searches: a query matching more than store.SearchRanked (1,000) posts ranks the
    newest 1,000 and the 100 most recently active threads titled for its words, not every match; the
    page says so. That bound is why a word in most posts costs no more than a rare one.
  - posts spread evenly over two years: a search reads matches a period of months at a time, newest
    first (store/search_periods.go); a forum whose posts crowd into a month or two reads all of those
    months' matches, as every search read all of its matches before.
  - a shared 2-core machine: other work on it shows up in the tail (p99, max).
`)
}

func sortD(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(d))*p/100)) - 1
	return d[min(max(i, 0), len(d)-1)].Round(10 * time.Microsecond)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "search bench:", err)
	os.Exit(1)
}
