package store

import (
	"fmt"
	"strings"
	"time"
)

// A search ranks the newest SearchRanked matches, and a GIN index hands
// over matches in no useful order: asked for every match of a word in
// 3 % of 100,000 posts, PostgreSQL fetched ~2,900 rows to keep the newest
// 1,000 (bench/search). So the matches are looked for period by period,
// newest first, and the search stops at the period that makes up its
// number: each post's document holds the month it was written in
// (forum_post_month, tenant migration forum_post_search), so the GIN
// index itself keeps a period's matches, and PostgreSQL reads the rows
// of the months the search needs. A period is read only when those
// before it found too few.
//
// searchPeriodMonths are the periods' lengths in months, back from the
// current month (the first also holds next month, for a clock a little
// ahead of this one); each about doubles what was read before it, so at
// most about twice the matches needed are read. One last period holds
// every other post: older, or dated later than the first.
var searchPeriodMonths = [...]int{2, 4, 8, 16}

// searchPeriodArg is one period's parameters: the months' lexemes as a
// tsquery ('posted 2026-11' | …), and its dates, [from, to).
type searchPeriodArg struct {
	months   string
	from, to time.Time
}

// searchPeriods are the periods of a search made at now, newest first.
func searchPeriods(now time.Time) []searchPeriodArg {
	now = now.UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	next := month.AddDate(0, 2, 0) // the end of next month
	var out []searchPeriodArg
	to, back := next, -1 // months before the current one: -1 is next month
	for _, n := range searchPeriodMonths {
		var lexemes []string
		if back < 0 {
			n++ // next month rides along with the first period
		}
		for i := range n {
			lexemes = append(lexemes, "'posted "+month.AddDate(0, -(back+i), 0).Format("2006-01")+"'")
		}
		back += n
		from := month.AddDate(0, -back+1, 0)
		out = append(out, searchPeriodArg{months: strings.Join(lexemes, " | "), from: from, to: to})
		to = from
	}
	return out
}

// searchPeriodsSQL is the posts CTE of searchSQL and those it reads:
// each period's newest matches, then the rest's, and of them all the
// newest SearchRanked + 1. Parameters from $first on: each period's
// months and to, then the last period's from; the rest is what is before
// that or from the first period's to on.
//
// A period's rows are told by their month lexemes (what GIN can keep);
// its to, redundant, starts a walk of forum_post_search_recent at the
// period's newest post. Its from is left out: the planner, taking dates
// and months for independent, would estimate a period's matches at a
// fraction of what they are. A period is read only if the ones before
// found too few: that condition has no column, so PostgreSQL tests it
// once, before reading anything. Each period keeps the constant LIMIT
// (not "what is left"), so the planner knows it may need all of a
// period's matches and reads them through GIN, not by a long walk.
func searchPeriodsSQL(first int) string {
	var b strings.Builder
	var found []string // what the periods before found
	period := func(name, cond string) {
		fmt.Fprintf(&b, `%s AS (
	SELECT p.post_id, p.thread_id, p.created_at, p.search_doc
	  FROM {tenant}.forum_post_search p
	 WHERE %s
	   AND (NOT p.hidden OR $2::boolean)
	   AND ($3::uuid IS NULL OR p.thread_id IN (SELECT c.id FROM {tenant}.forum_threads c WHERE c.category_id = $3::uuid))`, name, cond)
		if len(found) > 0 {
			fmt.Fprintf(&b, "\n\t   AND %s <= $10::int", strings.Join(found, " + "))
		}
		b.WriteString("\n\t ORDER BY p.created_at DESC, p.post_id DESC\n\t LIMIT $10::int + 1\n), ")
		found = append(found, "(SELECT count(*) FROM "+name+")")
	}
	var names []string
	for i := range searchPeriodMonths {
		n := first + 2*i
		names = append(names, fmt.Sprintf("period%d", i))
		period(names[i], fmt.Sprintf("p.search_doc @@ websearch_to_tsquery('english', $1) AND p.search_doc @@ $%d::tsquery AND p.created_at < $%d::timestamptz", n, n+1))
	}
	names = append(names, "rest")
	period("rest", fmt.Sprintf("p.search_doc @@ websearch_to_tsquery('english', $1)\n\t   AND (p.created_at < $%d::timestamptz OR p.created_at >= $%d::timestamptz)",
		first+2*len(searchPeriodMonths), first+1))
	b.WriteString("posts AS (\n\tSELECT * FROM (SELECT * FROM " + strings.Join(names, " UNION ALL SELECT * FROM ") +
		") f\n\t ORDER BY f.created_at DESC, f.post_id DESC LIMIT $10::int + 1\n)")
	return b.String()
}

// searchPeriodParams are searchPeriodsSQL's parameters, in order.
func searchPeriodParams(now time.Time) []any {
	var out []any
	ps := searchPeriods(now)
	for _, p := range ps {
		out = append(out, p.months, p.to)
	}
	return append(out, ps[len(ps)-1].from)
}
