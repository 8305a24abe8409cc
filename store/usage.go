package store

import (
	"context"
	"fmt"
	"time"
)

// Usage: tokens and cost per day and agent (usage_daily, written with
// each execution's end), for the usage page and the quota.

// UsageRow is one agent's usage over a period.
type UsageRow struct {
	AgentID          string  `db:"agent_id"`
	AgentName        string  `db:"agent_name"`
	Executions       int64   `db:"executions"`
	PromptTokens     int64   `db:"prompt_tokens"`
	CompletionTokens int64   `db:"completion_tokens"`
	Cost             float64 `db:"cost"`
}

// Tokens is the row's total.
func (u UsageRow) Tokens() int64 { return u.PromptTokens + u.CompletionTokens }

// Builtin reports whether the row is the built-in assistant's.
func (u UsageRow) Builtin() bool { return u.AgentID == nilAgent }

// UsageDay is one day's tokens per agent.
type UsageDay struct {
	Day     time.Time
	ByAgent map[string]int64 // agent id → tokens
	Tokens  int64
	Cost    float64
}

// UsageDays returns the last n days (today included), oldest first, one
// per day even when nothing ran.
func (s *Store) UsageDays(ctx context.Context, t Tenant, n int, now time.Time) ([]UsageDay, error) {
	today := DayOf(now)
	first := today.AddDate(0, 0, 1-n)
	rows := []struct {
		Day    time.Time `db:"day"`
		Agent  string    `db:"agent_id"`
		Tokens int64     `db:"tokens"`
		Cost   float64   `db:"cost"`
	}{}
	if err := s.DB.SelectContext(ctx, &rows, t.SQL(`SELECT day, agent_id::text AS agent_id, prompt_tokens + completion_tokens AS tokens, cost
		FROM {tenant}.usage_daily WHERE day >= $1::date AND day <= $2::date`), dateText(first), dateText(today)); err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	out := make([]UsageDay, n)
	for i := range out {
		out[i] = UsageDay{Day: first.AddDate(0, 0, i), ByAgent: map[string]int64{}}
	}
	for _, r := range rows {
		if i := int(DayOf(r.Day).Sub(first).Hours() / 24); i >= 0 && i < n {
			out[i].ByAgent[r.Agent] += r.Tokens
			out[i].Tokens += r.Tokens
			out[i].Cost += r.Cost
		}
	}
	return out, nil
}

// UsageByAgent sums each agent's usage since the day of since, most
// tokens first.
func (s *Store) UsageByAgent(ctx context.Context, t Tenant, since time.Time) ([]UsageRow, error) {
	var out []UsageRow
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT agent_id::text AS agent_id, max(agent_name) AS agent_name,
			sum(executions) AS executions, sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens, sum(cost) AS cost
		FROM {tenant}.usage_daily WHERE day >= $1::date GROUP BY agent_id
		ORDER BY sum(prompt_tokens + completion_tokens) DESC, max(agent_name)`), dateText(since)); err != nil {
		return nil, fmt.Errorf("read usage by agent: %w", err)
	}
	return out, nil
}
