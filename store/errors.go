package store

import (
	"errors"
	"sort"
	"strings"

	"github.com/lib/pq"
)

// The few kinds of failure the rest of the app tells apart. Handlers map
// them to status codes in one place (handlers/errors.go).
var (
	// ErrNotFound: no such row in the caller's tenant (foreign ids included).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the caller's role may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: the change collides with the current state.
	ErrConflict = errors.New("conflict")
	// ErrBadCredentials: wrong email or password (never says which).
	ErrBadCredentials = errors.New("wrong email or password")
)

// ValidationError carries a message per form field. The empty field name
// holds a message about the form as a whole.
type ValidationError struct {
	Fields map[string]string
}

// Invalid starts a ValidationError with one message.
func Invalid(field, msg string) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: msg}}
}

// Add records msg for field unless the field already has one.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// OrNil returns nil when no field has a message, so callers can write
// `return v.OrNil()` without the typed-nil trap.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// uniqueViolation reports whether err is a unique-constraint failure, and on
// which constraint.
func uniqueViolation(err error) (constraint string, ok bool) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return pqErr.Constraint, true
	}
	return "", false
}
