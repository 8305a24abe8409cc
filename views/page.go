package views

// Page is what every template receives: the chrome's data plus the page's
// own Data.
type Page struct {
	Title string
	// Description is the page's meta description; empty gives the
	// product's (DefaultDescription).
	Description string
	Path        string // the request path, for the nav's current item
	User        *User
	Org         *Membership // the organization the session acts in
	Orgs        []Membership
	Flashes     []Flash
	Inbox       *Inbox // the notifications badge; nil without an organization
	Debug       bool   // ?fp_debug=1 on create pages
	Form        *Form
	Data        any
}

// DefaultDescription describes FleetPrompt for a page that has no
// description of its own (search results, shared links).
const DefaultDescription = "FleetPrompt: run a fleet of AI agents for your organization, with forums, a marketplace of agent packages and a record of everything that happened."

// MetaDescription is the page's description, or the product's.
func (p Page) MetaDescription() string {
	if p.Description != "" {
		return p.Description
	}
	if p.Title != "" {
		return p.Title + " in FleetPrompt. " + DefaultDescription
	}
	return DefaultDescription
}

// Membership is an organization the signed-in person belongs to, as the
// header and pages show it.
type Membership struct {
	OrgID                     int64
	OrgName, OrgSlug, OrgTier string
	Role                      string // owner, admin or member
}

// IsAdmin reports whether the role may manage the organization.
func (m Membership) IsAdmin() bool { return m.Role == "owner" || m.Role == "admin" }

// User is the signed-in person as the header shows them.
type User struct {
	ID     int64
	Name   string
	Email  string
	Handle string // their profile is /u/<Handle>
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string // "info" or "error"
	Message string
}

// Form holds submitted values and per-field messages, so an invalid form
// is re-rendered with the user's input kept.
type Form struct {
	Values map[string]string
	Errors map[string]string
}

// NewForm returns an empty form.
func NewForm() *Form { return &Form{Values: map[string]string{}, Errors: map[string]string{}} }

// Value returns the submitted value of field.
func (f *Form) Value(field string) string {
	if f == nil {
		return ""
	}
	return f.Values[field]
}

// Error returns the message for field, "" when it is fine.
func (f *Form) Error(field string) string {
	if f == nil {
		return ""
	}
	return f.Errors[field]
}

// Invalid reports whether any field has a message.
func (f *Form) Invalid() bool { return f != nil && len(f.Errors) > 0 }
