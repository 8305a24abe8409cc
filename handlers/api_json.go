package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"fleetprompt/store"
)

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
