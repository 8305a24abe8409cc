package jobs

import (
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// The runner's hottest statements, the claim and the completion, go to
// the server as plain text with their values written in as literals:
// lib/pq then uses the simple query protocol, one round trip, where a
// statement with parameters costs two (Parse and Describe, then Bind and
// Execute). That is a round trip less between a notification and a job's
// start. The values are the runner's own: numbers, its ID and the kinds
// and tenants it was configured with, quoted by pq.QuoteLiteral. The
// simple protocol also needs nothing of a pooler in transaction mode.

// textArray writes a text[] literal: ARRAY['a','b']::text[].
func textArray(vals []string) string {
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = pq.QuoteLiteral(v)
	}
	return "ARRAY[" + strings.Join(quoted, ",") + "]::text[]"
}

// appendIntArray appends an array literal of integers: '{1,2,3}'.
func appendIntArray(b []byte, vals []int64) []byte {
	b = append(b, "'{"...)
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return append(b, "}'"...)
}
