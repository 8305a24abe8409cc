package handlers

import (
	"time"

	"fleetprompt/store"
)

type apiAgent struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Handle      string    `json:"handle"`
	Description string    `json:"description"`
	State       string    `json:"state"`
	Version     string    `json:"version"`
	PackageSlug *string   `json:"package_slug"`
	CreatedAt   time.Time `json:"created_at"`
}

func toAPIAgent(a store.Agent) apiAgent {
	return apiAgent{ID: a.ID, Name: a.Name, Handle: a.Handle, Description: a.Description, State: a.State, Version: a.Version,
		PackageSlug: strPtr(a.PackageSlug), CreatedAt: a.CreatedAt}
}

type apiExecution struct {
	ID               string     `json:"id"`
	AgentID          *string    `json:"agent_id"`
	AgentName        string     `json:"agent_name"`
	Status           string     `json:"status"`
	Input            string     `json:"input"`
	Output           string     `json:"output"`
	Error            *string    `json:"error"`
	Model            *string    `json:"model"`
	PromptTokens     int        `json:"prompt_tokens"`
	CompletionTokens int        `json:"completion_tokens"`
	Cost             float64    `json:"cost"`
	QueuedAt         time.Time  `json:"queued_at"`
	StartedAt        *time.Time `json:"started_at"`
	FinishedAt       *time.Time `json:"finished_at"`
}

func toAPIExecution(e store.Execution) apiExecution {
	out := apiExecution{ID: e.ID, AgentName: e.AgentName, Status: e.Status, Input: e.Input, Output: e.Output,
		PromptTokens: e.PromptTokens, CompletionTokens: e.CompletionTokens, Cost: e.Cost, QueuedAt: e.QueuedAt,
		StartedAt: timePtr(e.StartedAt), FinishedAt: timePtr(e.FinishedAt)}
	if e.AgentID != "" {
		out.AgentID = &e.AgentID
	}
	if e.Error != "" {
		out.Error = &e.Error
	}
	if e.Model != "" {
		out.Model = &e.Model
	}
	return out
}
