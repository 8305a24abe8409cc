package store

import (
	"context"
	"fmt"
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
	var c conds
	c.eq("state", f.State)
	if err := c.afterTime("after", f.After, "created_at, id", ">"); err != nil {
		return AgentPage{}, err
	}
	q := `SELECT ` + agentColumns + ` FROM {tenant}.agents` + c.sql() + ` ORDER BY created_at, id` + c.limit(limit+1)
	var page AgentPage
	if err := s.DB.SelectContext(ctx, &page.Agents, t.SQL(q), c.args...); err != nil {
		return page, fmt.Errorf("list agents: %w", err)
	}
	if len(page.Agents) > limit {
		page.Agents = page.Agents[:limit]
		last := page.Agents[limit-1]
		page.Next = TimeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}
