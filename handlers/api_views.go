package handlers

import (
	"database/sql"
	"encoding/json"
	"time"

	"fleetprompt/store"
)

// The API's resources as JSON: what clients rely on (the OpenAPI document
// names each field). Store rows are never sent as they are, so a new
// column is not a new API field by accident.

type apiRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type apiPackage struct {
	Slug         string  `json:"slug"`
	Name         string  `json:"name"`
	Version      string  `json:"version"`
	Description  string  `json:"description"`
	Category     string  `json:"category"`
	Author       string  `json:"author"`
	PricingModel string  `json:"pricing_model"`
	MinTier      string  `json:"min_tier"`
	Featured     bool    `json:"featured"`
	Verified     bool    `json:"verified"`
	InstallCount int64   `json:"install_count"`
	RatingAvg    float64 `json:"rating_avg"`
	RatingCount  int     `json:"rating_count"`
}

func toAPIPackage(p store.Package) apiPackage {
	return apiPackage{Slug: p.Slug, Name: p.Name, Version: p.Version, Description: p.Description, Category: p.Category,
		Author: p.Author, PricingModel: p.PricingModel, MinTier: p.MinTier, Featured: p.IsFeatured, Verified: p.IsVerified,
		InstallCount: p.InstallCount, RatingAvg: p.RatingAvg, RatingCount: p.RatingCount}
}

type apiInstallation struct {
	ID             string     `json:"id"`
	PackageSlug    string     `json:"package_slug"`
	PackageName    string     `json:"package_name"`
	PackageVersion string     `json:"package_version"`
	Status         string     `json:"status"`
	Enabled        bool       `json:"enabled"`
	InstalledAt    *time.Time `json:"installed_at"`
	LastError      *string    `json:"last_error"`
}

func toAPIInstallation(i store.Installation) apiInstallation {
	return apiInstallation{ID: i.ID, PackageSlug: i.PackageSlug, PackageName: i.PackageName, PackageVersion: i.PackageVersion,
		Status: i.Status, Enabled: i.Enabled, InstalledAt: timePtr(i.InstalledAt), LastError: strPtr(i.LastError)}
}

type apiDirective struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Status      string          `json:"status"`
	Payload     json.RawMessage `json:"payload"`
	Result      json.RawMessage `json:"result"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	Subject     *apiRef         `json:"subject"`
	RequestedAt time.Time       `json:"requested_at"`
	StartedAt   *time.Time      `json:"started_at"`
	CompletedAt *time.Time      `json:"completed_at"`
	LastError   *string         `json:"last_error"`
}

func toAPIDirective(d store.Directive) apiDirective {
	out := apiDirective{ID: d.ID, Kind: d.Name, Status: d.Status, Payload: d.Payload, Result: d.Result, Attempt: d.Attempt,
		MaxAttempts: d.MaxAttempts, RequestedAt: d.CreatedAt, StartedAt: timePtr(d.StartedAt), CompletedAt: timePtr(d.CompletedAt)}
	if d.SubjectType != "" {
		out.Subject = &apiRef{d.SubjectType, d.SubjectID}
	}
	if d.LastError != "" {
		out.LastError = &d.LastError
	}
	if len(out.Result) == 0 {
		out.Result = json.RawMessage("null")
	}
	return out
}

type apiSignal struct {
	Seq           int64           `json:"seq"`
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Payload       json.RawMessage `json:"payload"`
	Subject       *apiRef         `json:"subject"`
	Actor         *apiRef         `json:"actor"`
	Source        string          `json:"source"`
	OccurredAt    time.Time       `json:"occurred_at"`
	CorrelationID *string         `json:"correlation_id"`
	CausationID   *string         `json:"causation_id"`
}

func toAPISignal(s store.Signal) apiSignal {
	out := apiSignal{Seq: s.Seq, ID: s.ID, Name: s.Name, Payload: s.Payload, Source: s.Source, OccurredAt: s.OccurredAt}
	if s.SubjectType != "" {
		out.Subject = &apiRef{s.SubjectType, s.SubjectID}
	}
	if s.ActorType != "" {
		out.Actor = &apiRef{s.ActorType, s.ActorID}
	}
	if s.CorrelationID != "" {
		out.CorrelationID = &s.CorrelationID
	}
	if s.CausationID != "" {
		out.CausationID = &s.CausationID
	}
	if len(out.Payload) == 0 {
		out.Payload = json.RawMessage("{}")
	}
	return out
}

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

type apiThread struct {
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	Status       string    `json:"status"`
	CategoryID   string    `json:"category_id"`
	CategorySlug string    `json:"category_slug"`
	Pinned       bool      `json:"pinned"`
	PostCount    int       `json:"post_count"`
	CreatedAt    time.Time `json:"created_at"`
	LastPostAt   time.Time `json:"last_post_at"`
}

func toAPIThread(t store.ForumThread) apiThread {
	return apiThread{ID: t.ID, Title: t.Title, Status: t.State(), CategoryID: t.CategoryID, CategorySlug: t.CategorySlug,
		Pinned: t.Pinned, PostCount: t.PostCount, CreatedAt: t.CreatedAt, LastPostAt: t.LastPostAt}
}

type apiPost struct {
	ID         string    `json:"id"`
	ThreadID   string    `json:"thread_id"`
	Body       string    `json:"body"`
	AuthorType string    `json:"author_type"`
	AuthorID   *string   `json:"author_id"`
	CreatedAt  time.Time `json:"created_at"`
}

func toAPIPost(p store.ForumPost) apiPost {
	return apiPost{ID: p.ID, ThreadID: p.ThreadID, Body: p.Content, AuthorType: p.AuthorType, AuthorID: strPtr(p.AuthorID), CreatedAt: p.CreatedAt}
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

func strPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}
