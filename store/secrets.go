package store

import (
	"context"
	"fmt"
)

// Secret returns the application secret called name, keeping candidate
// as its value when none is stored yet. The insert and the read are
// separate statements on purpose: when two processes start at once, both
// insert, one wins (ON CONFLICT DO NOTHING), and both read the winner's
// value back, so every instance agrees.
func (s *Store) Secret(ctx context.Context, name, candidate string) (string, error) {
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, candidate); err != nil {
		return "", fmt.Errorf("keep secret %s: %w", name, err)
	}
	var v string
	if err := s.DB.GetContext(ctx, &v, `SELECT value FROM app_secrets WHERE name = $1`, name); err != nil {
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	return v, nil
}
