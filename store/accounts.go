package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"fleetprompt/migrations"
)

// Organization is a tenant: its rows live in schema org_<slug>.
type Organization struct {
	ID            int64     `db:"id"`
	Name          string    `db:"name"`
	Slug          string    `db:"slug"`
	Tier          string    `db:"tier"`
	BillingStatus string    `db:"billing_status"`
	CreatedAt     time.Time `db:"created_at"`
}

// Tenant returns the organization's schema handle.
func (o Organization) Tenant() Tenant { return Tenant{OrgID: o.ID, Slug: o.Slug} }

// User is a person who can sign in.
type User struct {
	ID           int64     `db:"id"`
	Email        string    `db:"email"`
	Name         string    `db:"name"`
	Handle       string    `db:"handle"` // ^[a-z0-9_]{2,30}$, unique: mentions and /u/<handle>
	PasswordHash string    `db:"password_hash"`
	CreatedAt    time.Time `db:"created_at"`
}

// Roles and membership statuses (SPEC §3).
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"

	StatusActive   = "active"
	StatusInvited  = "invited"
	StatusDisabled = "disabled"
)

// IsAdminRole reports whether role may use the admin pages and moderate.
func IsAdminRole(role string) bool { return role == RoleOwner || role == RoleAdmin }

var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// CheckSlug returns a user-facing message when slug is not a valid
// organization slug, or "" when it is.
func CheckSlug(slug string) string {
	switch {
	case len(slug) < 2 || len(slug) > 40:
		return "must be 2 to 40 characters"
	case !slugPattern.MatchString(slug):
		return "must start with a letter and use lowercase letters, digits and single underscores between them"
	}
	return ""
}

// DeriveSlug turns an organization name into a slug candidate: lowercase,
// runs of other characters become "_", trimmed. The result is still checked
// with CheckSlug; it is never silently repaired further.
func DeriveSlug(name string) string {
	var b strings.Builder
	pendingSep := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if pendingSep && b.Len() > 0 {
				b.WriteByte('_')
			}
			pendingSep = false
			b.WriteRune(r)
			continue
		}
		pendingSep = true
	}
	s := b.String()
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "_")
	}
	return s
}

// Registration is the register form.
type Registration struct {
	OrgName  string
	OrgSlug  string
	Name     string
	Email    string
	Password string
}

// Normalize trims the fields and derives the slug when it was left blank.
func (r *Registration) Normalize() {
	r.OrgName = strings.TrimSpace(r.OrgName)
	r.OrgSlug = strings.TrimSpace(r.OrgSlug)
	r.Name = strings.TrimSpace(r.Name)
	r.Email = strings.TrimSpace(r.Email)
	if r.OrgSlug == "" {
		r.OrgSlug = DeriveSlug(r.OrgName)
	}
}

// Validate checks the form; it does not touch the database.
func (r Registration) Validate() error {
	v := &ValidationError{}
	checkOrg(v, r.OrgName, r.OrgSlug)
	checkName(v, "name", r.Name)
	if msg := checkEmail(r.Email); msg != "" {
		v.Add("email", msg)
	}
	checkPassword(v, "password", r.Password)
	return v.OrNil()
}

func checkOrg(v *ValidationError, name, slug string) {
	checkName(v, "org_name", name)
	if name == "" && slug == "" {
		return // the name's message says it all
	}
	if msg := CheckSlug(slug); msg != "" {
		v.Add("org_slug", fmt.Sprintf("%q %s", slug, msg))
	}
}

func checkName(v *ValidationError, field, s string) {
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		v.Add(field, "can't be blank")
	case n > 120:
		v.Add(field, "must be at most 120 characters")
	}
}

func checkEmail(s string) string {
	if s == "" {
		return "can't be blank"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") || len(s) > 254 {
		return "is not a valid email address"
	}
	return ""
}

func hashPassword(pw string, cost int) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(pw), cost)
}

// Register creates an organization (tier free), its schema with every
// tenant table, the owner user and the owner membership in one transaction:
// any failure leaves nothing behind.
func (s *Store) Register(ctx context.Context, r Registration) (User, Organization, error) {
	r.Normalize()
	if err := r.Validate(); err != nil {
		return User{}, Organization{}, err
	}
	hash, err := hashPassword(r.Password, s.BcryptCost)
	if err != nil {
		return User{}, Organization{}, err
	}
	var u User
	var org Organization
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		u, err = insertUser(ctx, tx, r.Email, string(hash), r.Name)
		if errors.Is(err, errEmailTaken) {
			return Invalid("email", "already has an account: sign in, then create the organization from the header")
		} else if err != nil {
			return err
		}
		if org, err = s.createOrganization(ctx, tx, r.OrgName, r.OrgSlug, "free"); err != nil {
			return err
		}
		return addMember(ctx, tx, org.ID, u.ID, RoleOwner)
	})
	return u, org, err
}

// CreateOrganization makes another organization with userID as its owner.
func (s *Store) CreateOrganization(ctx context.Context, userID int64, name, slug string) (Organization, error) {
	name, slug = strings.TrimSpace(name), strings.TrimSpace(slug)
	if slug == "" {
		slug = DeriveSlug(name)
	}
	v := &ValidationError{}
	checkOrg(v, name, slug)
	if err := v.OrNil(); err != nil {
		return Organization{}, err
	}
	var org Organization
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if org, err = s.createOrganization(ctx, tx, name, slug, "free"); err != nil {
			return err
		}
		return addMember(ctx, tx, org.ID, userID, RoleOwner)
	})
	return org, err
}

// createOrganization inserts the row, then creates and migrates its schema
// in the same transaction. The row goes first: a concurrent registration
// of the same slug waits on the unique index and then fails cleanly.
func (s *Store) createOrganization(ctx context.Context, tx *sqlx.Tx, name, slug, tier string) (Organization, error) {
	var org Organization
	err := tx.GetContext(ctx, &org, `INSERT INTO organizations (name, slug, tier) VALUES ($1, $2, $3)
		RETURNING id, name, slug, tier, billing_status, created_at`, name, slug, tier)
	if _, ok := uniqueViolation(err); ok {
		return org, Invalid("org_slug", fmt.Sprintf("%q is already taken: choose another", slug))
	} else if err != nil {
		return org, fmt.Errorf("insert organization: %w", err)
	}
	schema := org.Tenant().Schema()
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA `+quoteIdent(schema)); err != nil {
		if isCode(err, "42P06") { // duplicate_schema: a leftover schema without an org
			return org, Invalid("org_slug", fmt.Sprintf("%q is already taken: choose another", slug))
		}
		return org, fmt.Errorf("create schema %s: %w", schema, err)
	}
	if _, err := migrations.ApplyTenant(ctx, tx, s.tenant, schema); err != nil {
		return org, err
	}
	return org, nil
}

func addMember(ctx context.Context, tx sqlx.ExecerContext, orgID, userID int64, role string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO organization_memberships (organization_id, user_id, role, status)
		VALUES ($1, $2, $3, 'active')`, orgID, userID, role)
	if err != nil {
		return fmt.Errorf("insert membership: %w", err)
	}
	return nil
}

// Authenticate checks an email and password. Unknown emails cost one bcrypt
// comparison too, so the answer's timing does not tell which part was wrong.
func (s *Store) Authenticate(ctx context.Context, email, password string) (User, error) {
	var u User
	err := s.DB.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, strings.TrimSpace(email))
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return User{}, ErrBadCredentials
	} else if err != nil {
		return User{}, fmt.Errorf("find user: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// UserByEmail finds a user, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.DB.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, strings.TrimSpace(email))
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// OrganizationBySlug finds an organization by slug.
func (s *Store) OrganizationBySlug(ctx context.Context, slug string) (Organization, error) {
	var o Organization
	err := s.DB.GetContext(ctx, &o, `SELECT id, name, slug, tier, billing_status, created_at FROM organizations WHERE slug = $1`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

// Membership is a user's place in one organization.
type Membership struct {
	OrgID   int64  `db:"org_id" json:"org_id"`
	OrgName string `db:"org_name" json:"org_name"`
	OrgSlug string `db:"org_slug" json:"org_slug"`
	OrgTier string `db:"org_tier" json:"org_tier"`
	Role    string `db:"role" json:"role"`
}

// Tenant returns the membership's organization schema handle.
func (m Membership) Tenant() Tenant { return Tenant{OrgID: m.OrgID, Slug: m.OrgSlug} }

// IsAdmin reports whether the membership grants admin rights.
func (m Membership) IsAdmin() bool { return IsAdminRole(m.Role) }

func isCode(err error, code string) bool {
	var pqErr interface{ SQLState() string }
	return errors.As(err, &pqErr) && pqErr.SQLState() == code
}
