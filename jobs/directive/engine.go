package directive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// Engine requests and executes directives of the kinds it was built with.
type Engine struct {
	st    *store.Store
	log   *slog.Logger
	kinds table
}

// New builds the engine over its table of kinds. A malformed or repeated
// kind is a wiring mistake and panics at boot.
func New(st *store.Store, log *slog.Logger, kinds ...Kind) *Engine {
	if log == nil {
		log = slog.Default()
	}
	t, err := newTable(kinds)
	if err != nil {
		panic(err)
	}
	return &Engine{st: st, log: log.With("component", "directives"), kinds: t}
}

// Kinds lists the kinds, sorted by name: the admin's filters and the
// API read this.
func (e *Engine) Kinds() []Kind { return append([]Kind(nil), e.kinds.sorted...) }

// Kind returns the kind named name.
func (e *Engine) Kind(name string) (Kind, bool) {
	k, ok := e.kinds.byName[name]
	return k, ok
}

// Pending is the "requested" text of a kind, or a generic one.
func (e *Engine) Pending(name string) string {
	if k, ok := e.kinds.byName[name]; ok {
		return k.Pending
	}
	return "Requested"
}

// RegisterJobs registers the executing job kind on a runner.
func (e *Engine) RegisterJobs(r *jobs.Runner) { r.Handle(store.DirectiveJob, e.execute) }

// Request records a directive of a kind that came from outside the code
// (a workflow step, the API), as the requester may: an unknown kind is a
// *store.ValidationError, a kind above isAdmin's role store.ErrForbidden.
// Code that asks for a kind it names itself calls the store directly.
func (e *Engine) Request(ctx context.Context, t store.Tenant, req store.DirectiveRequest, isAdmin bool) (dir store.Directive, created bool, err error) {
	err = e.st.Tx(ctx, func(tx *sqlx.Tx) error {
		dir, created, err = e.RequestTx(ctx, tx, t, req, isAdmin)
		return err
	})
	return dir, created, err
}

// RequestTx is Request inside the caller's transaction.
func (e *Engine) RequestTx(ctx context.Context, tx *sqlx.Tx, t store.Tenant, req store.DirectiveRequest, isAdmin bool) (store.Directive, bool, error) {
	k, ok := e.kinds.byName[req.Kind]
	if !ok {
		return store.Directive{}, false, store.Invalid("kind", fmt.Sprintf("%q is not a known directive kind", req.Kind))
	}
	if k.Role == RoleAdmin && !isAdmin {
		return store.Directive{}, false, fmt.Errorf("%s takes an %s: %w", k.Name, k.Role, store.ErrForbidden)
	}
	return e.st.RequestDirectiveTx(ctx, tx, t, req)
}

// errSuperseded aborts an attempt whose claim another worker took over.
var errSuperseded = errors.New("directive attempt superseded")

// execute is the DirectiveJob handler: claim, run, settle. The directive's
// status is the truth; the job only carries it to a worker, so a repeated
// or rescued job finds a finished directive and has nothing to do.
func (e *Engine) execute(ctx context.Context, j *jobs.Job) error {
	var args store.DirectiveArgs
	if err := j.DecodeArgs(&args); err != nil {
		return jobs.Permanent(err)
	}
	t, err := e.st.TenantBySchema(ctx, j.Tenant)
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Permanent(err)
	} else if err != nil {
		return err
	}
	dir, kind, err := e.claim(ctx, t, args.ID)
	if errors.Is(err, store.ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil || dir.ID == "" {
		return err
	}
	execErr, err := e.run(ctx, t, kind, dir)
	switch {
	case err == nil, errors.Is(err, errSuperseded):
		return nil
	case execErr == nil:
		// The database failed around the executor: the directive stays
		// running and the job's retry claims it again.
		return err
	}
	return e.settleFailure(ctx, t, kind, dir, execErr)
}

// claim moves the directive requested → running under a new attempt, with
// directive.started. A directive left running by a dead worker is claimed
// again; one finished or canceled yields nothing (dir.ID empty).
func (e *Engine) claim(ctx context.Context, t store.Tenant, id string) (dir store.Directive, kind Kind, err error) {
	err = e.st.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := e.st.DirectiveForUpdate(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if cur.Status != store.DirectiveRequested && cur.Status != store.DirectiveRunning {
			return nil // finished or canceled: a repeated job has nothing to do
		}
		var ok bool
		if kind, ok = e.kinds.byName[cur.Name]; !ok {
			return fmt.Errorf("no executor for directive kind %q in this worker", cur.Name)
		}
		if cur.Attempt >= cur.MaxAttempts {
			// Its last attempt died with its worker.
			return e.fail(ctx, tx, t, kind, cur, errors.New("the worker executing the last attempt stopped before it finished"))
		}
		dir, err = e.st.StartDirectiveTx(ctx, tx, t, cur.ID)
		return err
	})
	return dir, kind, err
}

// run executes the kind and marks the directive succeeded, in one
// transaction (after the kind's Work, when it has one). execErr is the
// executor's own failure (its effects rolled back); err alone is the
// database failing around it.
func (e *Engine) run(ctx context.Context, t store.Tenant, kind Kind, dir store.Directive) (execErr, err error) {
	commit := func(ctx context.Context, tx *sqlx.Tx) (any, error) { return runKind(ctx, kind, tx, t, dir) }
	if kind.Work != nil {
		if commit, err = work(ctx, kind, t, dir); err != nil {
			return err, err
		}
	}
	err = e.st.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := e.st.DirectiveForUpdate(ctx, tx, t, dir.ID)
		if err != nil {
			return err
		}
		if cur.Status != store.DirectiveRunning || cur.Attempt != dir.Attempt {
			return errSuperseded // another worker took over after a rescue
		}
		result, err := commit(ctx, tx)
		if err != nil {
			execErr = err
			return err
		}
		resJSON, err := marshalResult(result)
		if err != nil {
			execErr = jobs.Permanent(err)
			return execErr
		}
		_, err = e.st.SucceedDirectiveTx(ctx, tx, t, dir.ID, resJSON)
		return err
	})
	return execErr, err
}

// settleFailure records an executor's failure: the directive goes back to
// requested for the job's retry (after its backoff), or fails for good
// when the failure is a refusal or the attempts are used up.
func (e *Engine) settleFailure(ctx context.Context, t store.Tenant, kind Kind, dir store.Directive, execErr error) error {
	permanent := isRefusal(execErr)
	failed := false
	err := e.st.Tx(ctx, func(tx *sqlx.Tx) error {
		cur, err := e.st.DirectiveForUpdate(ctx, tx, t, dir.ID)
		if err != nil {
			return err
		}
		if cur.Status != store.DirectiveRunning || cur.Attempt != dir.Attempt {
			return errSuperseded
		}
		if permanent || cur.Attempt >= cur.MaxAttempts {
			failed = true
			return e.fail(ctx, tx, t, kind, cur, execErr)
		}
		return e.st.RequeueDirectiveTx(ctx, tx, t, dir.ID, FailureText(execErr))
	})
	switch {
	case errors.Is(err, errSuperseded):
		return nil
	case err != nil:
		return fmt.Errorf("record directive failure (%v): %w", execErr, err)
	case failed:
		e.log.Warn("directive failed", "tenant", t.Schema(), "directive_id", dir.ID, "kind", dir.Name, "attempt", dir.Attempt, "err", execErr)
		return nil
	}
	return fmt.Errorf("directive %s attempt %d: %w", dir.Name, dir.Attempt, execErr)
}

// fail marks a directive failed for good, with directive.failed and the
// kind's OnFailure record, in tx.
func (e *Engine) fail(ctx context.Context, tx *sqlx.Tx, t store.Tenant, kind Kind, cur store.Directive, cause error) error {
	dir, err := e.st.FailDirectiveTx(ctx, tx, t, cur.ID, FailureText(cause))
	if err != nil {
		return err
	}
	if kind.OnFailure != nil {
		if err := kind.OnFailure(ctx, tx, t, dir, cause); err != nil {
			return fmt.Errorf("record %s failure: %w", dir.Name, err)
		}
	}
	return nil
}
