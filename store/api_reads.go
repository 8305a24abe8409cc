package store

import (
	"context"
	"fmt"
)

// Reads the JSON API pages with keyset cursors, for lists the pages show
// another way (the pages use numbered pages or show everything).

// privateSignal is the SQL test for a signal that belongs to one member's
// private chat: it never leaves their own pages.
const privateSignal = `(name LIKE 'chat.%' OR coalesce(subject_type, '') LIKE 'chat\_%')`

// APISignals returns up to limit of the tenant's signals after seq, oldest
// first, private chat left out; more says a next page may follow.
func (s *Store) APISignals(ctx context.Context, t Tenant, after int64, limit int) (out []Signal, more bool, err error) {
	limit = clampLimit(limit, 1000)
	err = s.selectPrepared(ctx, nil, &out, t.SQL(`SELECT `+signalColumns+` FROM {tenant}.signals
		WHERE seq > $1 AND NOT `+privateSignal+` ORDER BY seq LIMIT $2`), after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("read signals after %d: %w", after, err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// APIThreads returns up to limit threads, newest first, after the
// TimeCursor before ("" for the first page), in one category when
// categorySlug is set; next is the following page's cursor, "" at the end.
func (s *Store) APIThreads(ctx context.Context, t Tenant, categorySlug, before string, limit int) (out []ForumThread, next string, err error) {
	limit = clampLimit(limit, 200)
	var c conds
	c.eq("c.slug", categorySlug)
	if err := c.afterTime("after", before, "th.created_at, th.id", "<"); err != nil {
		return nil, "", err
	}
	q := threadSelect + c.sql() + ` ORDER BY th.created_at DESC, th.id DESC` + c.limit(limit+1)
	if err := s.DB.SelectContext(ctx, &out, t.SQL(q), c.args...); err != nil {
		return nil, "", fmt.Errorf("list threads: %w", err)
	}
	if len(out) > limit {
		out = out[:limit]
		next = TimeCursor(out[limit-1].CreatedAt, out[limit-1].ID)
	}
	return out, next, nil
}
