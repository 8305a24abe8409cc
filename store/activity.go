package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Activity counts are signals per UTC day and family (the name's first
// word), kept by the activity subscriber (jobs/activity) in the
// transaction that moves its cursor, so the dashboard draws them without
// counting the signal table.

// SignalFamily is the first word of a signal name: "forum" for
// forum.post.created.
func SignalFamily(name string) string {
	f, _, _ := strings.Cut(name, ".")
	return f
}

// ActivityKey is one cell of the counts.
type ActivityKey struct {
	Day    time.Time // midnight UTC
	Family string
}

// DayOf is the UTC day t falls in.
func DayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dateText is a UTC day as PostgreSQL's date literal: passing a
// timestamp would be cast in the session's time zone.
func dateText(t time.Time) string { return t.UTC().Format("2006-01-02") }

// AddActivityTx adds counts to the tenant's daily activity, in one
// statement.
func (s *Store) AddActivityTx(ctx context.Context, tx *sqlx.Tx, t Tenant, counts map[ActivityKey]int) error {
	if len(counts) == 0 {
		return nil
	}
	days, fams, ns := make([]string, 0, len(counts)), make([]string, 0, len(counts)), make([]int64, 0, len(counts))
	for k, n := range counts {
		days, fams, ns = append(days, dateText(k.Day)), append(fams, k.Family), append(ns, int64(n))
	}
	_, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.activity_daily (day, family, count)
		SELECT d, f, n FROM unnest($1::date[], $2::text[], $3::bigint[]) AS c(d, f, n)
		ON CONFLICT (day, family) DO UPDATE SET count = activity_daily.count + EXCLUDED.count`),
		pq.Array(days), pq.Array(fams), pq.Array(ns))
	if err != nil {
		return fmt.Errorf("add activity counts: %w", err)
	}
	return nil
}

// RecountActivityTx counts days again from the signal table, up to and
// including seq: what a replay does, so replaying never counts a signal
// twice. Private chat is never counted (as in jobs/activity).
func (s *Store) RecountActivityTx(ctx context.Context, tx *sqlx.Tx, t Tenant, days []time.Time, upTo int64) error {
	if len(days) == 0 {
		return nil
	}
	// Two statements: within one, the insert would not see the delete.
	dates := make([]string, len(days))
	for i, d := range days {
		dates[i] = dateText(d)
	}
	if _, err := tx.ExecContext(ctx, t.SQL(`DELETE FROM {tenant}.activity_daily WHERE day = ANY($1::date[])`), pq.Array(dates)); err != nil {
		return fmt.Errorf("recount activity: %w", err)
	}
	_, err := tx.ExecContext(ctx, t.SQL(`INSERT INTO {tenant}.activity_daily (day, family, count)
		SELECT (s.occurred_at AT TIME ZONE 'UTC')::date, split_part(s.name, '.', 1), count(*)
		  FROM {tenant}.signals s
		 WHERE (s.occurred_at AT TIME ZONE 'UTC')::date = ANY($1::date[])
		   AND s.seq <= $2 AND s.name NOT LIKE 'chat.%'
		 GROUP BY 1, 2`), pq.Array(dates), upTo)
	if err != nil {
		return fmt.Errorf("recount activity: %w", err)
	}
	return nil
}

// ActivityDay is one day of activity by family.
type ActivityDay struct {
	Day      time.Time
	ByFamily map[string]int
	Total    int
}

// Activity returns the last n days of activity (today included), oldest
// first, one entry per day even when nothing happened.
func (s *Store) Activity(ctx context.Context, t Tenant, n int, now time.Time) ([]ActivityDay, error) {
	today := DayOf(now)
	first := today.AddDate(0, 0, 1-n)
	rows := []struct {
		Day    time.Time `db:"day"`
		Family string    `db:"family"`
		Count  int       `db:"count"`
	}{}
	if err := s.DB.SelectContext(ctx, &rows, t.SQL(`SELECT day, family, count FROM {tenant}.activity_daily
		WHERE day >= $1::date AND day <= $2::date ORDER BY day`), dateText(first), dateText(today)); err != nil {
		return nil, fmt.Errorf("read activity: %w", err)
	}
	out := make([]ActivityDay, n)
	for i := range out {
		out[i] = ActivityDay{Day: first.AddDate(0, 0, i), ByFamily: map[string]int{}}
	}
	for _, r := range rows {
		i := int(DayOf(r.Day).Sub(first).Hours() / 24)
		if i >= 0 && i < n {
			out[i].ByFamily[r.Family] += r.Count
			out[i].Total += r.Count
		}
	}
	return out, nil
}
