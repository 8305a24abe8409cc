package store

import (
	"context"
	"fmt"
	"time"
)

// DashboardFigures are one organization's numbers for its dashboard. Every
// figure is read from the tenant's own schema: there are no global counts.
type DashboardFigures struct {
	AgentsByState         map[string]int
	InstallationsByStatus map[string]int
	// ThreadsWeek and PostsWeek count what was created in the last 7 days.
	ThreadsWeek, PostsWeek int
	DirectivesByStatus     map[string]int
}

// InstallationStatuses lists the installation statuses in lifecycle order.
var InstallationStatuses = []string{InstallRequested, InstallInstalling, InstallInstalled, InstallFailed, InstallDisabled}

// DirectiveStatuses lists the directive statuses in lifecycle order.
var DirectiveStatuses = []string{DirectiveRequested, DirectiveRunning, DirectiveSucceeded, DirectiveFailed, DirectiveCanceled}

// Dashboard reads the tenant's figures.
func (s *Store) Dashboard(ctx context.Context, t Tenant) (DashboardFigures, error) {
	var f DashboardFigures
	var err error
	if f.AgentsByState, err = s.AgentStateCounts(ctx, t); err != nil {
		return f, err
	}
	if f.DirectivesByStatus, err = s.DirectiveCounts(ctx, t); err != nil {
		return f, err
	}
	f.InstallationsByStatus = map[string]int{}
	rows := []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}{}
	if err := s.DB.SelectContext(ctx, &rows, t.SQL(`SELECT status, count(*) AS n FROM {tenant}.package_installations GROUP BY status`)); err != nil {
		return f, fmt.Errorf("count installations: %w", err)
	}
	for _, r := range rows {
		f.InstallationsByStatus[r.Status] = r.N
	}
	since := time.Now().Add(-7 * 24 * time.Hour)
	err = s.DB.QueryRowxContext(ctx, t.SQL(`SELECT
		(SELECT count(*) FROM {tenant}.forum_threads WHERE created_at >= $1),
		(SELECT count(*) FROM {tenant}.forum_posts WHERE created_at >= $1)`), since).Scan(&f.ThreadsWeek, &f.PostsWeek)
	if err != nil {
		return f, fmt.Errorf("count forum activity: %w", err)
	}
	return f, nil
}
