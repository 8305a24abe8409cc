package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AdminSignalFilter selects signals for the admin's signals table: the
// name and time filters of SignalFilter plus the subject. Empty fields do
// not filter.
type AdminSignalFilter struct {
	Name         string // exact, or a prefix pattern ending in ".*"
	SubjectType  string
	SubjectID    string
	Since, Until time.Time // occurred_at in [Since, Until)
	Before       int64     // cursor: seq below this
	Limit        int       // default 50, at most 500
}

// AdminSignals pages through a tenant's signals, newest first, like
// ListSignals but also by subject (the admin asks "what happened to this
// thread / user / package?").
func (s *Store) AdminSignals(ctx context.Context, t Tenant, f AdminSignalFilter) (SignalPage, error) {
	limit := clampLimit(f.Limit, 500)
	where, args := signalWhere(f.Name, f.Since, f.Until)
	if f.SubjectType != "" {
		args = append(args, f.SubjectType)
		where = append(where, fmt.Sprintf("subject_type = $%d", len(args)))
	}
	if f.SubjectID != "" {
		args = append(args, f.SubjectID)
		where = append(where, fmt.Sprintf("subject_id = $%d", len(args)))
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		where = append(where, fmt.Sprintf("seq < $%d", len(args)))
	}
	args = append(args, limit+1)
	q := `SELECT ` + signalColumns + ` FROM {tenant}.signals`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(` ORDER BY seq DESC LIMIT $%d`, len(args))
	var page SignalPage
	if err := s.DB.SelectContext(ctx, &page.Signals, t.SQL(q), args...); err != nil {
		return page, fmt.Errorf("list signals: %w", err)
	}
	if len(page.Signals) > limit {
		page.Signals = page.Signals[:limit]
		page.Next = page.Signals[limit-1].Seq
	}
	return page, nil
}
