package handlers

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"fleetprompt/store"
)

// apiPostCreate is POST /api/v1/forums/threads/:id/posts {"body"}: 201
// with the reply. A foreign thread is 404; a closed one a 422.
func (h *Handler) apiPostCreate(c *gin.Context) error {
	return h.apiWrite(c, func(ctx context.Context, tx *sqlx.Tx, raw []byte, _ store.APIOnce) (int, any, error) {
		var in struct {
			Body string `json:"body"`
		}
		if err := decodeJSON(raw, &in); err != nil {
			return 0, nil, err
		}
		caller := apiCaller(c)
		post, err := h.store.CreatePostTx(ctx, tx, caller.Tenant(), store.NewPost{ThreadID: c.Param("id"), Body: in.Body,
			Author: store.HumanAuthor(caller.UserID)})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, toAPIPost(post), nil
	})
}
