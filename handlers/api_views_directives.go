package handlers

import (
	"encoding/json"
	"time"

	"fleetprompt/store"
)

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
