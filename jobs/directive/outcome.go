package directive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"fleetprompt/jobs"
	"fleetprompt/store"
)

// runKind calls the kind's RunFunc, turning a panic into an error so it is
// recorded on the directive like any failure.
func runKind(ctx context.Context, k Kind, tx *sqlx.Tx, t store.Tenant, dir store.Directive) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("executor panicked: %v", p)
		}
	}()
	return k.Run(ctx, tx, t, dir)
}

// work calls the kind's WorkFunc, turning a panic into an error, and
// wraps its CommitFunc likewise.
func work(ctx context.Context, k Kind, t store.Tenant, dir store.Directive) (commit CommitFunc, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("executor panicked: %v", p)
		}
	}()
	c, err := k.Work(ctx, t, dir)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = func(context.Context, *sqlx.Tx) (any, error) { return nil, nil }
	}
	return func(ctx context.Context, tx *sqlx.Tx) (result any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("executor panicked: %v", p)
			}
		}()
		return c(ctx, tx)
	}, nil
}

func marshalResult(result any) (json.RawMessage, error) {
	b, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("marshal result: %w", err)
	}
	return b, nil
}

// isRefusal reports whether retrying cannot help: a refusal in words (a
// *store.ValidationError) or an error marked jobs.Permanent.
func isRefusal(err error) bool {
	var v *store.ValidationError
	return jobs.IsPermanent(err) || errors.As(err, &v)
}

// FailureText is an error as a directive keeps it: a refusal's own words
// without the "invalid input" framing.
func FailureText(err error) string {
	var v *store.ValidationError
	if errors.As(err, &v) {
		if m := v.Fields[""]; m != "" && len(v.Fields) == 1 {
			return m
		}
		return strings.TrimPrefix(v.Error(), "invalid input: ")
	}
	return err.Error()
}

// Decode unmarshals a directive's payload into v, a malformed one being
// permanent (retrying cannot fix it).
func Decode(d store.Directive, v any) error {
	if err := d.Decode(v); err != nil {
		return jobs.Permanent(err)
	}
	return nil
}
