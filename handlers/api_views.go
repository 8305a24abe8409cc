package handlers

import (
	"database/sql"
	"time"
)

// The API's resources as JSON: what clients rely on (the OpenAPI document
// names each field). Store rows are never sent as they are, so a new
// column is not a new API field by accident.

type apiRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
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
