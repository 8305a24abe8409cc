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
