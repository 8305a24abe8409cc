package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

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
