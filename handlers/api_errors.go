package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

// apiFail is the API's side of the one error table (errors.go): the same
// kinds, the same statuses, written as application/problem+json.
func (h *Handler) apiFail(c *gin.Context, err error) {
	var v *store.ValidationError
	var tooBig *http.MaxBytesError
	p := problem{Type: "server-error", Status: http.StatusInternalServerError, Title: "Something went wrong",
		Detail: "The error was logged; nothing was changed by this request unless its response said so. Try again."}
	switch {
	case errors.Is(err, errNoKey):
		p = problem{"unauthorized", "No API key", http.StatusUnauthorized, "Send the key as Authorization: Bearer fp_…", nil}
	case errors.Is(err, errBadKey):
		p = problem{"unauthorized", "Invalid API key", http.StatusUnauthorized, "The key is unknown or was revoked.", nil}
	case errors.Is(err, errReadKey):
		p = problem{"forbidden", "Read-only key", http.StatusForbidden, "This key's scope is read: writing needs a write key.", nil}
	case errors.Is(err, store.ErrForbidden):
		p = problem{"forbidden", "Not allowed", http.StatusForbidden, "The key's maker is no longer an owner or admin of this organization, as this needs.", nil}
	case errors.Is(err, store.ErrNotFound):
		p = problem{"not-found", "Not found", http.StatusNotFound, "There is nothing here, or it belongs to another organization.", nil}
	case errors.Is(err, store.ErrIdempotencyReused):
		p = problem{"idempotency-key-reused", "Idempotency-Key reused", http.StatusUnprocessableEntity,
			"This Idempotency-Key was sent before with a different request. Use a new key for a new request.", nil}
	case errors.As(err, &v):
		p = problem{Type: "invalid", Title: "Invalid input", Status: http.StatusUnprocessableEntity, Detail: v.Fields[""], Errors: map[string]string{}}
		for f, msg := range v.Fields {
			if f != "" {
				p.Errors[f] = msg
			}
		}
		if p.Detail == "" {
			p.Detail = "Some fields need fixing: see errors."
		}
	case errors.Is(err, errBadJSON):
		p = problem{"malformed", "Malformed JSON", http.StatusBadRequest, "The body is not one JSON object.", nil}
	case errors.Is(err, errBadQuery):
		p = problem{"malformed", "Bad request", http.StatusBadRequest, "The address contains a NUL byte or invalid UTF-8.", nil}
	case errors.Is(err, store.ErrConflict):
		p = problem{"conflict", "Conflict", http.StatusConflict, "What you asked for changed meanwhile; read it again and retry.", nil}
	case errors.Is(err, errRateLimited), errors.Is(err, errTooMany):
		p = problem{"rate-limited", "Too many requests", http.StatusTooManyRequests,
			"This key made more requests than its limit allows; wait for Retry-After seconds.", nil}
	case errors.As(err, &tooBig):
		p = problem{"too-large", "Too large", http.StatusRequestEntityTooLarge, fmt.Sprintf("The body may be %s at most.", sizeText(tooBig.Limit)), nil}
	case errors.Is(err, context.Canceled):
		c.Abort()
		return
	case store.Unavailable(err):
		h.log.Warn("database unavailable", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		c.Header("Retry-After", strconv.Itoa(retryAfterOutage))
		p = problem{"unavailable", "Back in a moment", http.StatusServiceUnavailable, "The database is not answering; try again in a few seconds.", nil}
	default:
		h.log.Error("api request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	c.Abort()
	if c.Writer.Written() {
		return
	}
	p.Type = "/docs/api#problem-" + p.Type
	b, _ := json.Marshal(p)
	c.Header("Cache-Control", "no-store")
	c.Data(p.Status, "application/problem+json", b)
}
