// Package directive is the directive engine (SPEC §7): the one table of
// directive kinds, requesting a directive of a kind that came from
// outside the code (a workflow step, the API), and executing directives as
// jobs of the runner: claim, run, settle. The directives' rows and every
// move of their status are SQL in store/directives.go.
package directive

import (
	"context"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// Role is who may ask for a kind.
type Role int

// Roles, from the least.
const (
	// RoleMember: any active member (starting a thread).
	RoleMember Role = iota
	// RoleAdmin: owners and admins (installs, moderation).
	RoleAdmin
)

func (r Role) String() string {
	if r == RoleAdmin {
		return "owner or admin"
	}
	return "member"
}

// RunFunc carries out a directive inside tx, the transaction that also
// marks it succeeded and emits its signals: write through tx only, and
// emit the change's own signals (e.g. forum.thread.locked) on tx.
// Returning an error rolls everything back; the directive is retried with
// backoff, or fails at once when the error is a refusal (a
// *store.ValidationError, or wrapped with jobs.Permanent). result is
// stored as JSON.
type RunFunc func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive) (result any, err error)

// WorkFunc does a kind's slow part outside any transaction (a model
// provider's answer must not hold a transaction open for seconds) and
// returns what to commit: the engine runs the CommitFunc in the
// transaction that marks the directive succeeded, so the effects still
// commit exactly once with the status. A worker that dies during the
// work leaves the directive running; its retry works again from the start,
// so work that has effects of its own outside the database must be safe
// to repeat.
type WorkFunc func(ctx context.Context, t store.Tenant, d store.Directive) (CommitFunc, error)

// CommitFunc writes the effects of a WorkFunc's work in tx and returns
// the directive's result.
type CommitFunc func(ctx context.Context, tx *sqlx.Tx) (result any, err error)

// FailureFunc records, in the transaction that marks a directive failed
// for good, what the failure means for the kind's own rows (an
// installation showing the error, say). RunFunc's writes were rolled
// back; cause is the last attempt's error.
type FailureFunc func(ctx context.Context, tx *sqlx.Tx, t store.Tenant, d store.Directive, cause error) error

// Kind is one entry of the table of directive kinds: everything the
// engine, the admin pages and the API know about a kind. Adding a kind is
// adding one Kind with its RunFunc to the list in app/platform.go.
type Kind struct {
	// Name is the kind as stored in directives.name: "forum.thread.lock".
	Name string
	// Title says what it does, for filters and lists: "Lock a thread".
	Title string
	// Pending is shown while a request waits to run: "Lock requested".
	Pending string
	// Role is who may ask for it.
	Role Role
	// Run carries it out in one transaction; or Work does the slow part
	// first, outside it. A kind has exactly one of the two.
	Run  RunFunc
	Work WorkFunc
	// OnFailure is optional.
	OnFailure FailureFunc
}

func (k Kind) check() error {
	switch {
	case !store.ValidDirectiveKind(k.Name):
		return fmt.Errorf("directive: bad kind name %q", k.Name)
	case (k.Run == nil) == (k.Work == nil):
		return fmt.Errorf("directive: kind %s needs exactly one of Run and Work", k.Name)
	case k.Title == "" || k.Pending == "":
		return fmt.Errorf("directive: kind %s needs a Title and a Pending text", k.Name)
	}
	return nil
}

// table is the set of kinds, fixed at boot.
type table struct {
	byName map[string]Kind
	sorted []Kind
}

func newTable(kinds []Kind) (table, error) {
	t := table{byName: make(map[string]Kind, len(kinds))}
	for _, k := range kinds {
		if err := k.check(); err != nil {
			return t, err
		}
		if _, dup := t.byName[k.Name]; dup {
			return t, fmt.Errorf("directive: kind %s listed twice", k.Name)
		}
		t.byName[k.Name] = k
		t.sorted = append(t.sorted, k)
	}
	sort.Slice(t.sorted, func(i, j int) bool { return t.sorted[i].Name < t.sorted[j].Name })
	return t, nil
}
