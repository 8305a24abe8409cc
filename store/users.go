package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// userColumns are the users columns every User is read with.
const userColumns = `id, email, name, handle, password_hash, created_at`

var handlePattern = regexp.MustCompile(`^[a-z0-9_]{2,30}$`)

// CheckHandle returns a user-facing message when h is not a valid handle
// (after NormalizeHandle), or "" when it is.
func CheckHandle(h string) string {
	switch {
	case h == "":
		return "can't be blank"
	case len(h) < 2 || len(h) > 30:
		return "must be 2 to 30 characters"
	case !handlePattern.MatchString(h):
		return "may use lowercase letters, digits and underscores only"
	}
	return ""
}

// NormalizeHandle is what a person typed as a handle, as it is stored and
// looked up: trimmed, without a leading "@", lowercase. Handles are
// unique case-insensitively because only lowercase ones exist.
func NormalizeHandle(h string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "@"))
}

// foldSpecial are the letters Unicode decomposition leaves whole.
var foldSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th",
	'ł': "l", 'ħ': "h", 'ı': "i", 'ŧ': "t",
}

// DeriveHandle turns a name into a handle candidate: folded to ASCII
// ("José Núñez" → "jose_nunez"), runs of anything but letters and digits
// become one "_", trimmed, at most 30 characters; "user" when fewer than
// two remain (a name in a script without an ASCII folding). The first
// free variant of it is taken at insert (free_user_handle appends 2, 3…).
// migrations/public/0008 derives the same way in SQL for rows inserted
// without a handle.
func DeriveHandle(name string) string {
	var b strings.Builder
	pendingSep := false
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		if unicode.Is(unicode.Mn, r) {
			continue // a combining accent: "é" is "e" + U+0301
		}
		s := string(r)
		if f, ok := foldSpecial[r]; ok {
			s = f
		} else if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			pendingSep = true
			continue
		}
		if pendingSep && b.Len() > 0 {
			b.WriteByte('_')
		}
		pendingSep = false
		b.WriteString(s)
	}
	h := b.String()
	if len(h) > 30 {
		h = strings.TrimRight(h[:30], "_")
	}
	if len(h) < 2 {
		return "user"
	}
	return h
}

// errEmailTaken: insertUser found the email registered already.
var errEmailTaken = errors.New("email already registered")

// insertUser creates a user with a handle derived from the name, the first
// free one (free_user_handle serialises callers with the same base). Two
// different bases can still meet on one candidate ("Ana 2" and the second
// "Ana"): the loser waits for the winner's commit on the unique index and
// tries again from a savepoint, then seeing the handle taken.
func insertUser(ctx context.Context, tx *sqlx.Tx, email, passwordHash, name string) (User, error) {
	var u User
	for attempt := 0; ; attempt++ {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT insert_user`); err != nil {
			return u, fmt.Errorf("insert user: %w", err)
		}
		err := tx.GetContext(ctx, &u, `INSERT INTO users (email, password_hash, name, handle)
			VALUES ($1, $2, $3, free_user_handle($4)) RETURNING `+userColumns, email, passwordHash, name, DeriveHandle(name))
		c, unique := uniqueViolation(err)
		switch {
		case err == nil:
			_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT insert_user`)
			return u, err
		case unique && c == "users_email_key":
			return u, errEmailTaken
		case !unique || c != "users_handle_key" || attempt == 2:
			return u, fmt.Errorf("insert user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT insert_user`); err != nil {
			return u, fmt.Errorf("insert user: %w", err)
		}
	}
}

// checkPassword records why pw cannot be a password, if it cannot.
func checkPassword(v *ValidationError, field, pw string) {
	if utf8.RuneCountInString(pw) < 8 {
		v.Add(field, "must be at least 8 characters")
	} else if len(pw) > 72 {
		v.Add(field, "must be at most 72 bytes") // bcrypt's limit
	}
}

// UserByID finds a user.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.DB.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	} else if err != nil {
		return u, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// UserByHandle finds a user by handle, case-insensitively and with or
// without its "@" (mentions look people up with it). A user is global:
// callers that show one within an organization check the membership
// (MemberByUserID), so nobody learns who belongs to another.
func (s *Store) UserByHandle(ctx context.Context, handle string) (User, error) {
	var u User
	h := NormalizeHandle(handle)
	if CheckHandle(h) != "" {
		return u, ErrNotFound
	}
	err := s.DB.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE handle = $1`, h)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	} else if err != nil {
		return u, fmt.Errorf("user @%s: %w", h, err)
	}
	return u, nil
}

// ProfileChange is the settings page's profile form.
type ProfileChange struct {
	Name   string
	Handle string
}

// UpdateProfile changes a user's name and handle. A bad or taken handle
// and a bad name are a *ValidationError per field.
func (s *Store) UpdateProfile(ctx context.Context, userID int64, ch ProfileChange) (User, error) {
	name, handle := strings.TrimSpace(ch.Name), NormalizeHandle(ch.Handle)
	v := &ValidationError{}
	checkName(v, "name", name)
	if msg := CheckHandle(handle); msg != "" {
		v.Add("handle", msg)
	}
	if err := v.OrNil(); err != nil {
		return User{}, err
	}
	var u User
	err := s.DB.GetContext(ctx, &u, `UPDATE users SET name = $2, handle = $3, updated_at = now() WHERE id = $1
		RETURNING `+userColumns, userID, name, handle)
	if c, ok := uniqueViolation(err); ok && c == "users_handle_key" {
		return u, Invalid("handle", "@"+handle+" is taken: choose another")
	} else if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	} else if err != nil {
		return u, fmt.Errorf("update profile of user %d: %w", userID, err)
	}
	return u, nil
}

// ValidatePasswordChange checks the password form without the database:
// a current password is given and the new one can be a password.
func ValidatePasswordChange(current, next string) error {
	v := &ValidationError{}
	if current == "" {
		v.Add("current_password", "can't be blank")
	}
	checkPassword(v, "password", next)
	return v.OrNil()
}

// ChangePassword replaces a user's password after checking the current
// one, and ends every other session of the user in the same transaction
// (SPEC §16): whoever else knew the old password, or holds an old
// cookie, is out. The session of keepToken stays. It returns the ended
// sessions' hashes (SessionHash) so the caller can drop them from caches
// and end their streams. A wrong current password is a *ValidationError
// on current_password; a password changed meanwhile is ErrConflict.
func (s *Store) ChangePassword(ctx context.Context, userID int64, current, next, keepToken string) ([]string, error) {
	if err := ValidatePasswordChange(current, next); err != nil {
		return nil, err
	}
	var old string
	if err := s.DB.GetContext(ctx, &old, `SELECT password_hash FROM users WHERE id = $1`, userID); errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("read password of user %d: %w", userID, err)
	}
	// bcrypt runs outside the transaction: no row is locked while it works.
	if bcrypt.CompareHashAndPassword([]byte(old), []byte(current)) != nil {
		return nil, Invalid("current_password", "is not your current password")
	}
	hash, err := hashPassword(next, s.BcryptCost)
	if err != nil {
		return nil, err
	}
	var ended []string
	err = s.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $3, updated_at = now() WHERE id = $1 AND password_hash = $2`,
			userID, old, string(hash))
		if err != nil {
			return fmt.Errorf("update password of user %d: %w", userID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict // changed by another request since we read it
		}
		ended, err = deleteOtherSessions(ctx, tx, userID, keepToken)
		return err
	})
	return ended, err
}

// idText is an id as signals and text columns carry it.
func idText(id int64) string { return strconv.FormatInt(id, 10) }
