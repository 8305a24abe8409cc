package main

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"fleetprompt/store"
)

// A support forum to answer from: threads about the things a SaaS
// team's people ask about, each opened with a question and followed by
// answers, thanks and asides, in varied words and lengths. Written by
// topic so that questions about a topic have posts that answer them
// among many that merely share a common word.

type topic struct {
	category string
	title    []string // thread titles
	lines    []string // what posts about it say
}

var topics = []topic{
	{"Billing", []string{"Invoice shows the wrong VAT number", "How do refunds work for annual plans?", "Charged twice this month"},
		[]string{"Refunds for annual plans are prorated: you get back the unused months, minus any discount.", "The invoice takes the VAT number from the billing profile, so update it there and regenerate the invoice.", "A double charge is usually a pending authorisation that drops off after three to five business days.", "Finance can download every invoice as a PDF from the billing page.", "Switching from monthly to annual billing applies the discount from the next renewal."}},
	{"Accounts", []string{"Password reset email never arrives", "Locked out after too many sign-in attempts", "Changing the email address of an account"},
		[]string{"Password reset emails come from no-reply; check the spam folder and any mail filter on that sender.", "After several failed sign-ins the wait grows each time; it never locks the account for good.", "To change the email address, sign in and edit it on the profile page; a confirmation goes to the new address.", "Two-factor authentication can be reset by an owner of the organization.", "Sessions expire after thirty days without use, so you sign in again."}},
	{"Single sign-on", []string{"SAML login fails with an audience mismatch", "Setting up Okta SSO", "Azure AD group mapping"},
		[]string{"An audience mismatch means the entity ID in the identity provider differs from the one on our SSO settings page.", "For Okta, create a SAML 2.0 app, paste the ACS URL and the entity ID, then upload the metadata XML.", "Azure AD groups map to roles by name: a group called admins becomes the admin role.", "Just-in-time provisioning creates the account the first time someone signs in through SSO.", "Keep one owner able to sign in with a password in case the identity provider is down."}},
	{"Webhooks", []string{"Webhook deliveries keep failing with 401", "How do I verify webhook signatures?", "Retry schedule for webhooks"},
		[]string{"Every webhook is signed with HMAC-SHA256 over the timestamp and the body; compare it in constant time.", "A 401 from your endpoint means it rejected our signature or expected a token we do not send.", "Failed deliveries are retried with growing waits for about a day, then the endpoint is disabled.", "The delivery log shows each attempt with its status code and latency.", "Reject requests whose timestamp is more than five minutes old to stop replays."}},
	{"API", []string{"Rate limit on the REST API", "API key permissions", "Pagination of the executions endpoint"},
		[]string{"The API allows 600 requests per minute per key; a 429 carries a Retry-After header.", "API keys carry scopes; a read-only key cannot start runs or change agents.", "List endpoints paginate with a cursor: pass next_cursor from one page to get the next.", "Rotate a key by creating a new one, switching your clients, then revoking the old one.", "Timestamps in the API are RFC 3339 in UTC."}},
	{"Agents", []string{"Agent stuck in deploying", "Why did my agent move to error?", "Choosing a model for an agent"},
		[]string{"Deploying runs one test execution; if the provider does not answer, the agent moves to error with the reason.", "Five failed runs in a row move an active agent to error; fix the cause and redeploy it.", "A smaller model answers faster and costs less; keep the large one for long research tasks.", "The system prompt is where you tell the agent its tone, its limits and what to refuse.", "Archived agents keep their runs but no longer answer anywhere."}},
	{"Usage and quota", []string{"Monthly token limit reached", "Where do I see what each agent costs?", "Estimating tokens for the built-in responder"},
		[]string{"When the monthly token limit is reached, runs are refused until the first of next month or an upgrade.", "The usage page charts tokens per day and lists each agent's runs, tokens and cost.", "Cost comes from the price table per model; models without a price cost nothing.", "The built-in responder estimates tokens as characters divided by four.", "Enterprise plans have a far higher token limit than the free tier."}},
	{"Integrations", []string{"Slack notifications stopped", "Connecting GitHub issues", "Zapier trigger for new forum posts"},
		[]string{"Slack notifications stop when the app is removed from the channel; invite it again.", "The GitHub integration needs the repo scope to open issues from a thread.", "Zapier can trigger on new forum posts through the webhook integration.", "Each integration shows its last delivery and error on the integrations page.", "Disconnecting an integration revokes its token immediately."}},
	{"Data export", []string{"Export all forum threads to CSV", "GDPR data deletion request", "Backup and restore of workspace data"},
		[]string{"Owners can export threads and posts as CSV from the admin data page.", "A deletion request removes the person's account and anonymises their posts within thirty days.", "Backups run nightly and are kept for fourteen days; restores go through support.", "Exports include attachments as links that expire after a week.", "Audit logs can be exported separately as JSON lines."}},
	{"Workflows", []string{"Workflow did not trigger on a new signal", "Waiting step never resumes", "Testing a workflow before enabling it"},
		[]string{"A workflow triggers only on signals that match its pattern, such as forum.post.created.", "A waiting step resumes when the signal it waits for arrives, or times out after its deadline.", "Run the workflow by hand on a past signal to test it before enabling it.", "Each run shows its steps with inputs, outputs and timing.", "Disabled workflows keep their history but start no new runs."}},
	{"Performance", []string{"Pages load slowly in the afternoon", "Live updates lag behind", "Search is slow for long queries"},
		[]string{"Slow pages at peak hours are often a browser extension; try a private window first.", "Live updates arrive over server-sent events; a proxy that buffers responses delays them.", "Long search queries match more posts; put the most specific words first.", "The status page reports any ongoing incident and its latency.", "Large threads load their posts one page at a time."}},
	{"Members and roles", []string{"Inviting a contractor with limited access", "Difference between admin and owner", "Removing a member who left"},
		[]string{"Members can read and post; admins also manage agents and settings; owners manage billing too.", "Disable a member who left: their sessions end at once and their posts stay.", "A contractor can be a member of your organization without seeing the admin pages.", "Every organization needs at least one owner.", "Role changes take effect on the member's next click."}},
}

var asides = []string{
	"Thanks, that fixed it for us.", "We had the same problem last week.", "Following this thread.", "Can confirm, this works on our side too.",
	"Is there an update on this?", "Marking this as solved.", "Same here, on the pro plan.", "That explains what we saw.",
	"Our team ran into this after the last release.", "Good to know, I had missed that setting.",
}

var fillers = []string{
	"We are a team of %d people.", "This started around %d days ago.", "It happens in both Chrome and Firefox.",
	"We are on the %s plan.", "Our region is %s.", "It affects about %d of our users.", "We tried it again this morning.",
}

// details are what makes each post its own: codes, versions, names,
// tickets (the rare words of a real forum).
var details = []string{
	"We see error code E%d in the console.", "This is version %d of the desktop app.", "Ticket #%d is open with support for this.",
	"Our workspace is called %s.", "%s from our ops team found this first.", "It happens for %s every morning.",
	"Happens since release 2.%d.", "The request id was req_%d.",
}

var names = []string{"Amara", "Bjorn", "Chiara", "Dmitri", "Esther", "Farouk", "Greta", "Hiroshi", "Ines", "Jonas", "Kavya", "Lucia",
	"Mateo", "Noor", "Oskar", "Priya", "Quentin", "Rosa", "Soren", "Tomasz", "Umar", "Valentina", "Wen", "Ximena", "Yusuf", "Zofia",
	"Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Acme", "Soylent", "Tyrell", "Cyberdyne"}

var plans = []string{"free", "pro", "enterprise"}
var regions = []string{"Europe", "the US east coast", "Singapore", "Brazil"}

// post writes one post about tp: a few of its lines, maybe an aside
// and a detail, in random order and length.
func post(rng *rand.Rand, tp topic, first bool) string {
	var parts []string
	if first {
		title := tp.title[rng.IntN(len(tp.title))]
		parts = append(parts, "Hi all, "+strings.ToLower(title[:1])+title[1:]+"?")
	}
	if !first && rng.IntN(4) == 0 {
		parts = append(parts, asides[rng.IntN(len(asides))])
	}
	for _, i := range rng.Perm(len(tp.lines))[:1+rng.IntN(3)] {
		parts = append(parts, tp.lines[i])
	}
	if rng.IntN(2) == 0 {
		d := details[rng.IntN(len(details))]
		if strings.Contains(d, "%s") {
			d = fmt.Sprintf(d, names[rng.IntN(len(names))])
		} else {
			d = fmt.Sprintf(d, 100+rng.IntN(99900))
		}
		parts = append(parts, d)
	}
	if rng.IntN(2) == 0 {
		f := fillers[rng.IntN(len(fillers))]
		switch {
		case strings.Contains(f, "%d"):
			f = fmt.Sprintf(f, 2+rng.IntN(200))
		case strings.Contains(f, "%s") && strings.Contains(f, "plan"):
			f = fmt.Sprintf(f, plans[rng.IntN(len(plans))])
		case strings.Contains(f, "%s"):
			f = fmt.Sprintf(f, regions[rng.IntN(len(regions))])
		}
		parts = append(parts, f)
	}
	rng.Shuffle(len(parts)-btoi(first), func(i, j int) {
		parts[i+btoi(first)], parts[j+btoi(first)] = parts[j+btoi(first)], parts[i+btoi(first)]
	})
	return strings.Join(parts, " ")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fillForum writes posts posts in threads of about perThread, by topic,
// with COPY; created_at spreads over the last year.
func fillForum(ctx context.Context, st *store.Store, o benchOrg, posts, perThread int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	cats := map[string]string{}
	for _, tp := range topics {
		if _, ok := cats[tp.category]; ok {
			continue
		}
		c, err := st.CreateForumCategory(ctx, o.t, o.userID, store.NewForumCategory{Name: tp.category})
		if err != nil {
			return err
		}
		cats[tp.category] = c.ID
	}
	threads := (posts + perThread - 1) / perThread
	ids := make([]string, threads)
	tps := make([]int, threads)
	var titles, catIDs []string
	var at []time.Time
	now := time.Now()
	for i := range ids {
		ids[i], tps[i] = uuid(), rng.IntN(len(topics))
		tp := topics[tps[i]]
		titles = append(titles, tp.title[rng.IntN(len(tp.title))]+" #"+strconv.Itoa(i+1))
		catIDs = append(catIDs, cats[tp.category])
		at = append(at, now.Add(-time.Duration(rng.Int64N(int64(365*24*time.Hour)))))
	}
	return st.Tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, o.t.SQL(`INSERT INTO {tenant}.forum_threads (id, category_id, title, created_by_user_id, created_at, last_post_at)
			SELECT id, cat, title, $4, at, at FROM unnest($1::uuid[], $2::uuid[], $3::text[], $5::timestamptz[]) AS x(id, cat, title, at)`),
			pq.Array(ids), pq.Array(catIDs), pq.Array(titles), o.userID, pq.Array(at)); err != nil {
			return fmt.Errorf("threads: %w", err)
		}
		cp, err := tx.PrepareContext(ctx, pq.CopyInSchema(o.t.Schema(), "forum_posts", "thread_id", "content", "author_type", "author_id", "created_at"))
		if err != nil {
			return err
		}
		author := strconv.FormatInt(o.userID, 10)
		for i := range posts {
			th := i / perThread
			when := at[th].Add(time.Duration(i%perThread) * 37 * time.Minute)
			if _, err := cp.ExecContext(ctx, ids[th], post(rng, topics[tps[th]], i%perThread == 0), "human", author, when); err != nil {
				return fmt.Errorf("copy posts: %w", err)
			}
		}
		if _, err := cp.ExecContext(ctx); err != nil {
			return fmt.Errorf("copy posts: %w", err)
		}
		if err := cp.Close(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, o.t.SQL(`UPDATE {tenant}.forum_threads th SET post_count = p.n, last_post_at = p.last
			FROM (SELECT thread_id, count(*) AS n, max(created_at) AS last FROM {tenant}.forum_posts GROUP BY thread_id) p WHERE p.thread_id = th.id`))
		return err
	})
}

func uuid() string {
	var b [16]byte
	crand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// question is something a person asks, and the topic whose threads
// answer it (-1: the forum has nothing on it).
type question struct {
	text  string
	topic int
}

// questions are what people ask the responder: short keyword queries,
// plain questions, long rambling ones (many words: the costly case), and
// some the forum cannot answer.
func questions(n int) []question {
	rng := rand.New(rand.NewPCG(3, 4))
	starts := []string{"How do I", "Why does", "What happens when", "Can someone explain", "Is there a way to", "Where can I see"}
	offTopic := []string{"What is the capital of Mongolia?", "Recommend a good pizza place nearby.", "Translate hello into Klingon.",
		"Who won the football match yesterday?"}
	var out []question
	for len(out) < n {
		i := rng.IntN(len(topics))
		tp := topics[i]
		line := tp.lines[rng.IntN(len(tp.lines))]
		words := strings.Fields(strings.Trim(line, "."))
		switch k := rng.IntN(10); {
		case k == 0:
			out = append(out, question{offTopic[rng.IntN(len(offTopic))], -1})
		case k <= 3: // a few keywords
			w := rng.IntN(max(1, len(words)-3))
			out = append(out, question{strings.Join(words[w:w+min(3, len(words)-w)], " "), i})
		case k <= 7:
			out = append(out, question{starts[rng.IntN(len(starts))] + " " + strings.ToLower(tp.title[rng.IntN(len(tp.title))]) + "?", i})
		default: // long: context first, some of it about something else, then the question
			out = append(out, question{"Hello, " + post(rng, tp, false) + " " + post(rng, topics[rng.IntN(len(topics))], false) + " " +
				starts[rng.IntN(len(starts))] + " " + strings.ToLower(tp.title[0]) + "?", i})
		}
	}
	return out
}

// onTopic reports whether a thread (by its title) is about topic i.
func onTopic(title string, i int) bool {
	if i < 0 {
		return false
	}
	for _, t := range topics[i].title {
		if strings.HasPrefix(title, t+" #") {
			return true
		}
	}
	return false
}
