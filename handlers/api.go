package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// The JSON API (SPEC §15) is a second face on the same store and
// directives as the pages: /api/v1, a bearer API key, JSON in and out,
// problem+json errors with the pages' statuses. The tenant comes from the
// key alone; a session cookie grants nothing here.

// apiPrefix is where the API lives; errors under it are problem+json.
const apiPrefix = "/api/"

// Defaults of the per-key rate limit (Config.APIRateLimit, APIRateWindow).
const (
	defaultAPIRateLimit  = 600
	defaultAPIRateWindow = time.Minute
)

func isAPI(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, apiPrefix) }

// apiAuth authenticates the bearer key, counts the request against the
// key's rate limit (shared by every process: the count is a row in
// PostgreSQL), sets the RateLimit headers, and refuses with 401 or 429.
func (h *Handler) apiAuth(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	key, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="FleetPrompt API"`)
		h.fail(c, errNoKey)
		return
	}
	caller, err := h.store.AuthenticateAPIKey(c.Request.Context(), key, h.apiWindow)
	if errors.Is(err, store.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="FleetPrompt API", error="invalid_token"`)
		h.fail(c, errBadKey)
		return
	} else if err != nil {
		h.fail(c, err)
		return
	}
	reset := int(math.Ceil(caller.WindowStart.Add(h.apiWindow).Sub(caller.Now).Seconds()))
	reset = max(reset, 1)
	hd := c.Writer.Header()
	hd.Set("RateLimit-Limit", strconv.Itoa(h.apiLimit))
	hd.Set("RateLimit-Remaining", strconv.Itoa(max(h.apiLimit-caller.Count, 0)))
	hd.Set("RateLimit-Reset", strconv.Itoa(reset))
	hd.Set("RateLimit-Policy", strconv.Itoa(h.apiLimit)+";w="+strconv.Itoa(int(h.apiWindow/time.Second)))
	if caller.Count > h.apiLimit {
		hd.Set("Retry-After", strconv.Itoa(reset))
		h.fail(c, errRateLimited)
		return
	}
	c.Set("api", &caller)
	c.Next()
}

// bearer reads "Bearer <key>" (the scheme's case does not matter).
func bearer(header string) (string, bool) {
	scheme, key, _ := strings.Cut(strings.TrimSpace(header), " ")
	key = strings.TrimSpace(key)
	return key, strings.EqualFold(scheme, "Bearer") && key != ""
}

// apiWrites refuses a read key on a route that changes something.
func (h *Handler) apiWrites(c *gin.Context) {
	if !apiCaller(c).CanWrite() {
		h.fail(c, errReadKey)
		return
	}
	c.Next()
}

// apiCaller is who the request acts for. Only call it behind apiAuth.
func apiCaller(c *gin.Context) *store.APICaller { return c.MustGet("api").(*store.APICaller) }

// apiAdmin refuses what only owners and admins may ask for, when the
// key's maker no longer is one.
func apiAdmin(c *gin.Context) error {
	if !apiCaller(c).IsAdmin() {
		return store.ErrForbidden
	}
	return nil
}

// list is every list's shape: a page of data and the cursor of the next
// page (null on the last).
type list[T any] struct {
	Data []T     `json:"data"`
	Next *string `json:"next"`
}

func newList[T any](data []T, next string) list[T] {
	if data == nil {
		data = []T{}
	}
	l := list[T]{Data: data}
	if next != "" {
		l.Next = &next
	}
	return l
}

// apiLimit reads ?limit= (1..max, default def); anything else is a 422.
func apiLimit(c *gin.Context, def, most int) (int, error) {
	s := c.Query("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > most {
		return 0, store.Invalid("limit", "must be a whole number from 1 to "+strconv.Itoa(most))
	}
	return n, nil
}

// decodeJSON reads a JSON object from raw into v. Malformed JSON is a 400;
// an unknown field or a value of the wrong type is a 422 naming the field,
// so a typo in a client is found at once rather than ignored.
func decodeJSON(raw []byte, v any) error {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return store.Invalid("", "send a JSON object in the body")
	}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.DisallowUnknownFields()
	err := d.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		if d.More() {
			return errBadJSON
		}
		return nil
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return store.Invalid("", "send a JSON object in the body")
		}
		return store.Invalid(field, "must be a "+jsonType(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return store.Invalid(field, "is not a field of this request")
	}
	return errBadJSON
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "struct", "map":
		return "object"
	}
	return "number"
}

// readBody reads the request body (capped by checkInput).
func readBody(c *gin.Context) ([]byte, error) {
	raw, err := io.ReadAll(c.Request.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, tooBig
	}
	return raw, err
}

// writeFunc makes an API write's effect in tx (or in transactions of its
// own, idempotent under once's key) and returns its status and body.
type writeFunc func(ctx context.Context, tx *sqlx.Tx, raw []byte, once store.APIOnce) (status int, body any, err error)

// apiWrite runs a write with the request's Idempotency-Key, if any: the
// first response to a POST with a key is kept a day and sent again, with
// Idempotent-Replayed: true, to every repeat of that request; the same key
// with a different body is a 422. The response is stored in the
// transaction of the effect, so they commit together.
func (h *Handler) apiWrite(c *gin.Context, fn writeFunc) error {
	raw, err := readBody(c)
	if err != nil {
		return err
	}
	caller := apiCaller(c)
	once := store.APIOnce{Route: c.Request.Method + " " + c.Request.URL.Path, APIKeyID: caller.KeyID}
	if c.Request.Method == http.MethodPost {
		if once.Key = c.GetHeader("Idempotency-Key"); once.Key != "" {
			if len(once.Key) > 255 || strings.ContainsFunc(once.Key, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
				return store.Invalid("Idempotency-Key", "must be 1 to 255 printable ASCII characters")
			}
			sum := sha256.Sum256(raw)
			once.Hash = hex.EncodeToString(sum[:])
		}
	}
	ctx := c.Request.Context()
	resp, replayed, err := h.store.APIWrite(ctx, caller.Tenant(), once, func(tx *sqlx.Tx) (store.APIResponse, error) {
		status, body, err := fn(ctx, tx, raw, once)
		if err != nil {
			return store.APIResponse{}, err
		}
		b, err := json.Marshal(body)
		return store.APIResponse{Status: status, Body: string(b)}, err
	})
	if err != nil {
		return err
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Data(resp.Status, "application/json", []byte(resp.Body))
	return nil
}

// directiveKey is the idempotency key of the directive an API write asks
// for, derived from its Idempotency-Key and body: sent again after a
// crash that lost the response record, the request finds the directive it
// made instead of making a second. Without a key, every request is new.
func directiveKey(once store.APIOnce) string {
	if once.Key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(once.Route + "\n" + once.Key + "\n" + once.Hash))
	return "api:" + hex.EncodeToString(sum[:20])
}
