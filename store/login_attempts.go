package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Sign-in throttling keeps its counts in PostgreSQL (login_failures), so
// every process sees the same ones. The policy — how long a key with so
// many failures must wait — is the caller's (handlers/throttle.go); the
// store counts, locks and forgets.

// LoginFailuresPruneJob is the job kind that deletes forgotten failures.
const LoginFailuresPruneJob = "login_failures.prune"

// LoginFailureWindow is how long a failure is remembered: a key whose last
// failure is older counts as having none.
const LoginFailureWindow = time.Hour

// LoginWaitFunc says how long an attempt must wait given a key's failures
// and when the last one was; 0 lets it through.
type LoginWaitFunc func(key string, failures int, sinceLast time.Duration) time.Duration

// StartLoginAttempt lets a sign-in attempt through, counting it in advance
// as a failure against every key, unless one of the keys must still wait:
// then it counts nothing and returns the longest wait. Counting before the
// password is checked is what makes concurrent guesses see each other: a
// burst of parallel attempts cannot all slip under the limit.
// LoginSucceeded takes the count back.
func (s *Store) StartLoginAttempt(ctx context.Context, keys []string, wait LoginWaitFunc) (time.Duration, error) {
	keys = slices.Clone(keys)
	slices.Sort(keys) // one lock order for every attempt
	var longest time.Duration
	err := s.Tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (key) SELECT unnest($1::text[]) ON CONFLICT (key) DO NOTHING`,
			pq.Array(keys)); err != nil {
			return err
		}
		var rows []struct {
			Key       string        `db:"key"`
			Failures  int           `db:"failures"`
			SinceLast time.Duration `db:"since_last"`
		}
		// Ages by PostgreSQL's clock (in nanoseconds, as time.Duration
		// scans), the same for every process whatever their own clocks say.
		if err := tx.SelectContext(ctx, &rows, `
			SELECT key, CASE WHEN last_failed_at < now() - $2 * interval '1 microsecond' THEN 0 ELSE failures END AS failures,
			       (extract(epoch FROM now() - last_failed_at) * 1e9)::bigint AS since_last
			  FROM login_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE`,
			pq.Array(keys), LoginFailureWindow.Microseconds()); err != nil {
			return err
		}
		for _, r := range rows {
			longest = max(longest, wait(r.Key, r.Failures, r.SinceLast))
		}
		if longest > 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE login_failures
			   SET failures = CASE WHEN last_failed_at < now() - $2 * interval '1 microsecond' THEN 0 ELSE failures END + 1,
			       last_failed_at = now()
			 WHERE key = ANY($1)`, pq.Array(keys), LoginFailureWindow.Microseconds())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("start sign-in attempt: %w", err)
	}
	return longest, nil
}

// LoginSucceeded takes back the failure StartLoginAttempt counted: the
// account's key (forgotten altogether: its owner got in) and the others
// (one failure fewer).
func (s *Store) LoginSucceeded(ctx context.Context, accountKey string, others []string) error {
	_, err := s.DB.ExecContext(ctx, `
		WITH forgot AS (DELETE FROM login_failures WHERE key = $1)
		UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = ANY($2)`, accountKey, pq.Array(others))
	if err != nil {
		return fmt.Errorf("record sign-in: %w", err)
	}
	return nil
}

// PruneLoginFailures deletes failures older than LoginFailureWindow,
// which no longer count; cron runs it.
func (s *Store) PruneLoginFailures(ctx context.Context) (int64, error) {
	res, err := s.DB.ExecContext(ctx, `DELETE FROM login_failures WHERE last_failed_at < now() - $1 * interval '1 microsecond'`,
		LoginFailureWindow.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("prune sign-in failures: %w", err)
	}
	return res.RowsAffected()
}
