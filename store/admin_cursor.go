package store

import (
	"strconv"
	"strings"
	"time"
)

// The admin tables page with keyset cursors rather than offsets: a row
// inserted or removed while someone pages does not shift the rest, so no
// row is shown twice or skipped. A time cursor is "<unix micros>_<uuid>",
// the (created_at, id) of the last row shown; PostgreSQL keeps
// microseconds, so the pair round-trips exactly.

// TimeCursor encodes the position after a row.
func TimeCursor(at time.Time, id string) string {
	return strconv.FormatInt(at.UnixMicro(), 10) + "_" + id
}

// parseTimeCursor decodes a TimeCursor; a malformed one is a
// *ValidationError on field (it comes from a URL).
func parseTimeCursor(field, c string) (time.Time, string, error) {
	us, id, ok := strings.Cut(c, "_")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || !IsUUID(id) {
		return time.Time{}, "", Invalid(field, "is not a page cursor")
	}
	return time.UnixMicro(n), id, nil
}

// ParseIDCursor decodes a numeric cursor (a seq, a job or membership id)
// from field of a URL; "" is 0, the start. A malformed one is a
// *ValidationError.
func ParseIDCursor(field, c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		return 0, Invalid(field, "is not a page cursor")
	}
	return n, nil
}

// conds collects a query's WHERE conditions and their parameters, so
// list queries with optional filters number their $n placeholders in one
// place.
type conds struct {
	where []string
	args  []any
}

// add appends a condition; each "?" in cond stands for the next of vals.
func (c *conds) add(cond string, vals ...any) {
	for _, v := range vals {
		c.args = append(c.args, v)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(c.args)), 1)
	}
	c.where = append(c.where, cond)
}

// eq filters col = v unless v is empty (an unset filter).
func (c *conds) eq(col, v string) {
	if v != "" {
		c.add(col+" = ?", v)
	}
}

// afterTime continues a keyset page from a TimeCursor: rows whose
// (created_at, id) columns compare with cmp ("<" newest first, ">" oldest
// first) to the cursor's. A malformed cursor is a *ValidationError on field.
func (c *conds) afterTime(field, cursor, cols, cmp string) error {
	if cursor == "" {
		return nil
	}
	at, id, err := parseTimeCursor(field, cursor)
	if err != nil {
		return err
	}
	c.add("("+cols+") "+cmp+" (?, ?::uuid)", at, id)
	return nil
}

// sql returns " WHERE a AND b", or "" without conditions.
func (c *conds) sql() string {
	if len(c.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.where, " AND ")
}

// limit adds n as a parameter and returns " LIMIT $k" for it.
func (c *conds) limit(n int) string {
	c.args = append(c.args, n)
	return " LIMIT $" + strconv.Itoa(len(c.args))
}
