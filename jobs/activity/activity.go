// Package activity is the daily activity counts subscriber: signals per
// UTC day and family for each tenant, which the dashboard draws. It is the
// example the other subscribers copy: a name, the signals it wants, and a
// handler whose effects commit with the subscriber's cursor.
package activity

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs/signal"
	"fleetprompt/store"
)

// Name is the subscriber's name (its cursors are kept under it).
const Name = "activity.daily"

// Subscriber counts every signal of every tenant, history included.
func Subscriber(st *store.Store) signal.Subscriber {
	return signal.Subscriber{
		Name: Name, Signals: []string{"*"}, BatchSize: 500,
		HandleFunc: func(ctx context.Context, tx *sqlx.Tx, d signal.Delivery) error {
			if d.Replay {
				// Counted before: count those days again from the log, up
				// to the cursor, rather than add them twice.
				return st.RecountActivityTx(ctx, tx, d.Tenant, days(d.Signals), d.Cursor)
			}
			return st.AddActivityTx(ctx, tx, d.Tenant, counts(d.Signals))
		},
	}
}

func counts(sigs []store.Signal) map[store.ActivityKey]int {
	out := map[store.ActivityKey]int{}
	for _, s := range sigs {
		if fam := store.SignalFamily(s.Name); counted(fam) {
			out[store.ActivityKey{Day: store.DayOf(s.OccurredAt), Family: fam}]++
		}
	}
	return out
}

// counted leaves out the families the organization must not see in
// aggregate: a member's private chat shows nowhere but to them, and a
// person's notifications (an unread badge moving) are not activity.
func counted(family string) bool { return family != "chat" && family != "notification" }

func days(sigs []store.Signal) []time.Time {
	seen := map[time.Time]bool{}
	var out []time.Time
	for _, s := range sigs {
		if d := store.DayOf(s.OccurredAt); !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
