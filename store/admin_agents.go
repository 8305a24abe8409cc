package store

import (
	"context"
	"fmt"
	"strings"
)

// AgentFilter selects agents for the admin's agents table; empty fields
// do not filter.
type AgentFilter struct {
	State string
	// After is the cursor from the previous page's Next.
	After string
	Limit int // default 50, at most 200
}

// AgentPage is one page of agents, oldest first. Next is "" on the last.
type AgentPage struct {
	Agents []Agent
	Next   string
}

// AdminAgents pages through the tenant's agents in the order they were
// created, a keyset order that stays put while states change.
func (s *Store) AdminAgents(ctx context.Context, t Tenant, f AgentFilter) (AgentPage, error) {
	limit := clampLimit(f.Limit, 200)
	var where []string
	var args []any
	if f.State != "" {
		args = append(args, f.State)
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	if f.After != "" {
		at, id, err := parseTimeCursor("after", f.After)
		if err != nil {
			return AgentPage{}, err
		}
		args = append(args, at, id)
		where = append(where, fmt.Sprintf("(created_at, id) > ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	q := `SELECT ` + agentColumns + ` FROM {tenant}.agents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	q += fmt.Sprintf(` ORDER BY created_at, id LIMIT $%d`, len(args))
	var page AgentPage
	if err := s.DB.SelectContext(ctx, &page.Agents, t.SQL(q), args...); err != nil {
		return page, fmt.Errorf("list agents: %w", err)
	}
	if len(page.Agents) > limit {
		page.Agents = page.Agents[:limit]
		last := page.Agents[limit-1]
		page.Next = TimeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}
