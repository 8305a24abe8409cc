package store

import (
	"regexp"
	"strings"

	"github.com/lib/pq"
)

// Tenant names one organization's schema. It is only ever built from an
// organization row whose slug the database has checked, and the schema name
// is quoted as an identifier on top of that.
type Tenant struct {
	OrgID int64
	Slug  string
}

// Schema is the tenant's PostgreSQL schema name, unquoted.
func (t Tenant) Schema() string { return "org_" + t.Slug }

// SQL qualifies tenant tables: every "{tenant}." in q becomes the quoted
// schema. Qualified names, rather than a per-connection search_path, mean a
// pooled connection never carries one tenant into another request.
func (t Tenant) SQL(q string) string {
	return strings.ReplaceAll(q, "{tenant}.", pq.QuoteIdentifier(t.Schema())+".")
}

func quoteIdent(s string) string { return pq.QuoteIdentifier(s) }

var uuidText = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s is a UUID. Tenant rows have UUID ids, so a
// foreign id is simply absent from this tenant's schema; checking the
// shape first makes a malformed one "not found" too, never a cast error.
func IsUUID(s string) bool { return uuidText.MatchString(s) }
