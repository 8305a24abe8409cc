package handlers

import "errors"

// The API's refusals, beside the store's kinds.
var (
	errNoKey       = errors.New("no API key")
	errBadKey      = errors.New("unknown or revoked API key")
	errReadKey     = errors.New("read-only API key")
	errRateLimited = errors.New("rate limit exceeded")
	errBadJSON     = errors.New("malformed JSON")
)

// problem is an RFC 9457 problem details object. Type is a link into the
// API's documentation, where each kind of problem is explained; Errors
// holds a message per field for a 422.
type problem struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail,omitempty"`
	Errors map[string]string `json:"errors,omitempty"`
}
